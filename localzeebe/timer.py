"""ISO 8601 durations for timer events (days, weeks, hours, minutes, fractional seconds)."""

from __future__ import annotations

import re

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_MILLIS = {"weeks": 604_800_000, "days": 86_400_000, "hours": 3_600_000, "minutes": 60_000}


class DurationError(ValueError):
    """Not an ISO 8601 duration this engine can schedule."""


def parse_duration_ms(text: str) -> int:
    """Return the duration in milliseconds, e.g. 'PT1S' -> 1000, 'P1DT2H' -> 93600000."""
    value = text.strip()
    if re.match(r"^P(?:\d+Y|\d+M)", value):
        raise DurationError(f"calendar durations (years/months) are not supported: {text!r}")
    match = _DURATION.match(value)
    if match is None or value in {"P", "PT"} or value.endswith("T"):
        raise DurationError(f"not an ISO 8601 duration: {text!r}")
    try:
        total = 0.0
        for unit, factor in _MILLIS.items():
            total += int(match.group(unit) or 0) * factor
        total += float(match.group("seconds") or 0) * 1000
        return round(total)
    except (ValueError, OverflowError):  # more digits than an int or a float holds
        raise DurationError(f"duration too large: {text[:40]!r}") from None
