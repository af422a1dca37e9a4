"""Timer durations as Zeebe reads them: ISO 8601 intervals parsed like Zeebe's `Interval.parse`
(bpmn-model `io.camunda.zeebe.model.bpmn.util.time.Interval`), which combines a `java.time.Period`
(years, months, weeks, days) and a `java.time.Duration` (days, hours, minutes, seconds), optionally signed
and optionally after a start date-time (`start/duration`).

The due date follows `Interval#toEpochMilli`: a duration-only interval adds its exact length; one with a
period adds it on the calendar of the engine's time zone (Zeebe uses the broker's system zone), so `P1M`
on 31 January ends on the last day of February. A zero or negative interval gives a due date that is not
after now, and Zeebe's timer checker triggers such a timer at its next run, that is at once.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# java.time.Period.parse and java.time.Duration.parse, both case-insensitive (ASCII only, as in Java).
_PERIOD: Final = re.compile(
    r"([-+]?)P(?:([-+]?[0-9]+)Y)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)W)?(?:([-+]?[0-9]+)D)?",
    re.IGNORECASE | re.ASCII,
)
_DURATION: Final = re.compile(
    r"([-+]?)P(?:([-+]?[0-9]+)D)?"
    r"(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?",
    re.IGNORECASE | re.ASCII,
)
# java.time.format.DateTimeFormatter.ISO_ZONED_DATE_TIME: a local date-time, an offset, an optional [zone].
_ZONED_DATE_TIME: Final = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)"
    r"(Z|[+-][0-9]{2}(?::[0-9]{2}(?::[0-9]{2})?)?)(?:\[([^\]]+)\])?",
    re.IGNORECASE | re.ASCII,
)
_NANOS_PER_MILLI: Final = 1_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class DurationError(ValueError):
    """Not an interval Zeebe accepts for a timer duration (Zeebe raises an incident, or refuses a static
    one at deployment)."""


@dataclass(frozen=True)
class Interval:
    months: int = 0  # the period's years and months, as Period#toTotalMonths
    days: int = 0  # the period's weeks and days (calendar days)
    nanos: int = 0  # the duration part, exact
    start_ms: int | None = None

    @property
    def calendar_based(self) -> bool:
        """As Interval#isCalendarBased: only a period makes a difference here, since a duration of a day or
        more is still added on the instant timeline."""
        return bool(self.months or self.days)

    def due_ms(self, from_ms: int, zone: tzinfo | None = None) -> int:
        """When a timer with this interval, created at from_ms, is due. zone None: the system's zone."""
        if self.start_ms is not None and self.start_ms > from_ms:
            return self.start_ms  # Interval#toEpochMilli: a start in the future is the due date itself
        if not self.calendar_based:
            return from_ms + _to_millis(self.nanos)
        # ZonedDateTime#plus(Duration), then Instant#toEpochMilli: the sum is rounded towards the past.
        return _plus_period(from_ms, self.months, self.days, zone) + self.nanos // _NANOS_PER_MILLI


def parse_interval(text: str) -> Interval:
    """Parse like Interval.parse: '[start/][+-]PnYnMnWnD[TnHnMn.nS]'. The text is taken as is: a static
    timeDuration is trimmed by the BPMN reader, a FEEL result is not."""
    start_ms = None
    slash = text.rfind("/")
    if slash > 0:
        start_ms = _parse_start(text[:slash], text)
    expression = text[slash + 1 :]
    sign = "-" if expression.startswith("-") else ""
    sign_length = 1 if expression[:1] in {"-", "+"} else 0
    time_part = expression.find("T")
    if time_part == -1:
        months, days = _parse_period(expression, text)
        return Interval(months, days, 0, start_ms)
    if time_part == sign_length + 1:
        return Interval(0, 0, _parse_duration(expression, text), start_ms)
    months, days = _parse_period(expression[:time_part], text)
    return Interval(months, days, _parse_duration(f"{sign}P{expression[time_part:]}", text), start_ms)


def _invalid(text: str) -> DurationError:
    return DurationError(f"Invalid duration format '{text[:80]}'")


def _parse_period(part: str, text: str) -> tuple[int, int]:
    """Total months and days, as java.time.Period.parse reads the part (int arithmetic that overflows
    is a parse failure there)."""
    match = _PERIOD.fullmatch(part)
    if match is None or not any(match.group(index) for index in range(2, 6)):
        raise _invalid(text)
    negate = -1 if match.group(1) == "-" else 1
    years, months, weeks, days = (_number(match.group(index), 32, text) * negate for index in range(2, 6))
    total_days = _fits(days + _fits(weeks * 7, 32, text), 32, text)
    for value in (years, months):
        _fits(value, 32, text)
    return years * 12 + months, total_days


def _number(digits: str | None, bits: int, text: str) -> int:
    """A signed decimal as Java's Integer.parseInt (32) or Long.parseLong (64) reads it."""
    if digits is None:
        return 0
    if len(digits.lstrip("+-").lstrip("0")) > 19:
        raise _invalid(text)  # far beyond a long (and beyond what int() converts quickly)
    return _fits(int(digits), bits, text)


def _fits(value: int, bits: int, text: str) -> int:
    """The value if a Java int (32) or long (64) holds it; otherwise Java's parse fails."""
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise _invalid(text)
    return value


def _parse_duration(part: str, text: str) -> int:
    """Nanoseconds, as java.time.Duration.parse reads the part."""
    match = _DURATION.fullmatch(part)
    if match is None or match.group(3) in {"T", "t"}:  # a T without any time field
        raise _invalid(text)
    days, hours, minutes, seconds, fraction = match.group(2, 4, 5, 6, 7)
    if days is None and hours is None and minutes is None and seconds is None:
        raise _invalid(text)

    def as_seconds(digits: str | None, factor: int) -> int:
        return _fits(_number(digits, 64, text) * factor, 64, text)

    # Summed in Duration.create's order, each step a long.
    total = _fits(as_seconds(minutes, 60) + as_seconds(seconds, 1), 64, text)
    total = _fits(as_seconds(hours, 3_600) + total, 64, text)
    total = _fits(as_seconds(days, 86_400) + total, 64, text)
    nanos = int((fraction or "").ljust(9, "0"))
    if seconds is not None and seconds.startswith("-"):
        nanos = -nanos  # the fraction takes the sign of the seconds
    result = total * 1_000_000_000 + nanos
    if match.group(1) == "-":
        result = -result
    if abs(_to_millis(result)) >= 2**63:
        raise DurationError(f"duration too large: '{text[:40]}'")  # Duration#toMillis overflows in Zeebe
    return result


def _to_millis(nanos: int) -> int:
    """Duration#toMillis: whole milliseconds, the rest cut off towards zero."""
    millis = abs(nanos) // _NANOS_PER_MILLI
    return millis if nanos >= 0 else -millis


def _parse_start(part: str, text: str) -> int:
    """Epoch milliseconds of an ISO_ZONED_DATE_TIME (the offset fixes the instant; a [zone] must exist)."""
    match = _ZONED_DATE_TIME.fullmatch(part)
    if match is None or (match.group(4) is not None and not _known_zone(match.group(4))):
        raise _invalid(text)
    date, time, offset = match.group(1, 2, 3)
    whole, _, fraction = time.partition(".")
    utc_offset = "+00:00" if offset.upper() == "Z" else offset
    if len(utc_offset) == 3:
        utc_offset += ":00"
    try:
        start = datetime.fromisoformat(f"{date}T{whole}{utc_offset}")
    except ValueError:
        raise _invalid(text) from None
    millis = int(fraction.ljust(3, "0")[:3]) if fraction else 0
    return (start - _EPOCH) // timedelta(milliseconds=1) + millis


def _known_zone(name: str) -> bool:
    if re.fullmatch(r"(?:Z|UTC|GMT|UT)?(?:[+-][0-9]{2}(?::[0-9]{2})?)?", name):
        return bool(name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _plus_period(from_ms: int, months: int, days: int, zone: tzinfo | None) -> int:
    """from_ms plus the period on the wall clock of the zone (Period#addTo on a ZonedDateTime: months
    first, with the day of month clamped to the month's length, then days). A result beyond what a
    datetime holds is beyond year 9999: such a timer is due at the edge of that range instead."""
    seconds, millis = divmod(from_ms, 1000)
    moment = datetime.fromtimestamp(seconds, zone).replace(microsecond=millis * 1000)
    year_offset, month_index = divmod(moment.month - 1 + months, 12)
    year = moment.year + year_offset
    if not 1 <= year <= 9999:
        return _edge_ms(forward=year > 9999)
    day = min(moment.day, calendar.monthrange(year, month_index + 1)[1])
    try:
        moved = moment.replace(year=year, month=month_index + 1, day=day) + timedelta(days=days)
        return round(moved.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        return _edge_ms(forward=days > 0)


def _edge_ms(*, forward: bool) -> int:
    edge = datetime.max if forward else datetime.min
    return (edge.replace(tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
