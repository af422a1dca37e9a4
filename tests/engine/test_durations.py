"""ISO 8601 durations for timer events."""

from __future__ import annotations

import pytest

from localzeebe.timer import DurationError, parse_duration_ms


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("PT1S", 1_000),
        ("PT0.5S", 500),
        ("PT15M", 900_000),
        ("PT1H30M", 5_400_000),
        ("P1D", 86_400_000),
        ("P1DT2H", 93_600_000),
        ("P2W", 1_209_600_000),
        (" PT2S ", 2_000),
    ],
)
def test_parses_durations(text: str, millis: int) -> None:
    assert parse_duration_ms(text) == millis


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "1S", "PT1X", "R3/PT1S", "-PT1S", "P1Y", "P2M"])
def test_refuses_what_it_cannot_schedule(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration_ms(text)


@pytest.mark.parametrize("text", ["PT" + "9" * 5000 + "H", "P" + "9" * 400 + "D", "PT" + "9" * 400 + ".5S"])
def test_refuses_durations_too_large_to_compute(text: str) -> None:
    with pytest.raises(DurationError, match="duration too large"):
        parse_duration_ms(text)
