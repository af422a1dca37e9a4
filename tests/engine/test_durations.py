"""Timer durations read like Zeebe's Interval.parse (java.time Period and Duration) and scheduled like
Interval#toEpochMilli."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from localzeebe.timer import DurationError, Interval, parse_interval


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


NOW = _ms("2026-01-31T10:00:00+00:00")


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("PT1S", 1_000),
        ("PT0.5S", 500),
        ("PT0,25S", 250),
        ("PT1.S", 1_000),
        ("PT15M", 900_000),
        ("PT1H30M", 5_400_000),
        ("PT36H", 129_600_000),
        ("pt1s", None),  # Interval.parse looks for an upper-case T
        ("PT0S", 0),
        ("-PT1S", -1_000),
        ("+PT1S", 1_000),
        ("PT-1S", -1_000),
        ("PT-0.5S", -500),
        ("-PT-1S", 1_000),
        ("PT1M-30S", 30_000),
        ("PT0.0009S", 0),  # Duration#toMillis cuts towards zero
        ("-PT0.0009S", 0),
        ("/PT2S", 2_000),  # nothing before the slash: no start
    ],
)
def test_durations_add_their_exact_length(text: str, millis: int | None) -> None:
    if millis is None:
        with pytest.raises(DurationError):
            parse_interval(text)
    else:
        assert parse_interval(text).due_ms(NOW) == NOW + millis


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("P1D", "2026-02-01T10:00:00"),
        ("P2W", "2026-02-14T10:00:00"),
        ("P1W2D", "2026-02-09T10:00:00"),
        ("p1d", "2026-02-01T10:00:00"),  # java.time parses case-insensitively
        ("P1M", "2026-02-28T10:00:00"),  # 31 January plus a month: the last day of February
        ("P1Y2M", "2027-03-31T10:00:00"),
        ("P1Y", "2027-01-31T10:00:00"),
        ("P1DT2H", "2026-02-01T12:00:00"),
        ("P1MT0.5S", "2026-02-28T10:00:00.500"),
        ("-P1D", "2026-01-30T10:00:00"),
        ("-P1DT1H", "2026-01-30T09:00:00"),
        ("P-1M", "2025-12-31T10:00:00"),
        ("P0D", "2026-01-31T10:00:00"),
    ],
)
def test_periods_move_on_the_calendar(text: str, due: str) -> None:
    assert parse_interval(text).due_ms(NOW, UTC) == _ms(due + "+00:00")


def test_a_day_is_a_calendar_day_across_a_daylight_saving_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    before = _ms("2026-03-28T12:00:00+01:00")  # the clocks go forward in the night to 29 March
    assert parse_interval("P1D").due_ms(before, berlin) == _ms("2026-03-29T12:00:00+02:00")
    assert parse_interval("PT24H").due_ms(before, berlin) == _ms("2026-03-29T13:00:00+02:00")


def test_a_start_in_the_future_is_the_due_date_and_one_in_the_past_adds_the_duration() -> None:
    assert parse_interval("2026-02-01T00:00:00Z/PT1H").due_ms(NOW) == _ms("2026-02-01T00:00:00+00:00")
    assert parse_interval("2026-01-01T00:00:00+01:00[Europe/Paris]/PT1H").due_ms(NOW) == NOW + 3_600_000
    assert parse_interval("2026-02-01T00:00:00.250+01:00/P1D").start_ms == _ms(
        "2026-01-31T23:00:00.250+00:00"
    )


def test_calendar_results_beyond_what_a_date_holds_are_due_at_its_edge() -> None:
    assert parse_interval("P999999999Y").due_ms(NOW, UTC) > _ms("9999-12-31T00:00:00+00:00")
    assert parse_interval("-P999999999Y").due_ms(NOW, UTC) < NOW


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "-",
        "P1DT",
        "1S",
        "PT1X",
        "R3/PT1S",
        "P1S",
        "PT1D",
        "P1H",
        "P1M2",
        "PT1.1234567891S",
        " PT2S",  # a FEEL result is not trimmed (a static timeDuration is, by the BPMN reader)
        "PT2S ",
        "T1H",
        "P1DT1D",
        "2026-02-01T00:00:00/PT1H",  # a start needs an offset
        "2026-02-30T00:00:00Z/PT1H",
        "2026-02-01T00:00:00Z[Nowhere/Else]/PT1H",
        "P2147483648D",  # more than a Java int
        "P306783379W",  # weeks in days: more than a Java int
        "PT9223372036854775808S",  # more than a Java long
        "PT" + "9" * 5000 + "H",
        "P\u0661D",  # only ASCII digits
    ],
)
def test_refuses_what_zeebe_cannot_parse(text: str) -> None:
    with pytest.raises(DurationError, match="Invalid duration format"):
        parse_interval(text)


def test_refuses_a_duration_whose_milliseconds_overflow_in_zeebe() -> None:
    with pytest.raises(DurationError, match="duration too large"):
        parse_interval("PT9223372036854776S")
    assert parse_interval("PT9223372036854775S").due_ms(0) == 9_223_372_036_854_775_000


def test_leading_zeros_are_no_overflow() -> None:
    assert parse_interval("PT" + "0" * 30 + "2S").due_ms(NOW) == NOW + 2_000


def test_an_interval_is_calendar_based_only_with_a_period() -> None:
    assert Interval(months=1).calendar_based
    assert Interval(days=1).calendar_based
    assert not Interval(nanos=86_400 * 10**9).calendar_based
