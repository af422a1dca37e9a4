"""Shifts this Python process's wall clock by CHAOS_CLOCK_SKEW_SECONDS (a chaos run's skewed worker only).

Python imports `sitecustomize` at start when it is on the path; the chaos stack puts this directory on the
PYTHONPATH of its second worker alone. `time.time` and `datetime.now`/`utcnow` move; the monotonic clock,
which timeouts use, does not, as with a host whose wall clock is set wrong.
"""

from __future__ import annotations

import datetime as _datetime
import os
import time as _time

_SKEW = float(os.environ.get("CHAOS_CLOCK_SKEW_SECONDS", "0") or 0)

if _SKEW:
    _real_time = _time.time
    _real_time_ns = _time.time_ns

    def _skewed_time() -> float:
        return _real_time() + _SKEW

    def _skewed_time_ns() -> int:
        return _real_time_ns() + int(_SKEW * 1e9)

    _time.time = _skewed_time
    _time.time_ns = _skewed_time_ns

    class _SkewedDatetime(_datetime.datetime):
        @classmethod
        def now(cls, tz: _datetime.tzinfo | None = None) -> _SkewedDatetime:
            return super().now(tz) + _datetime.timedelta(seconds=_SKEW)

        @classmethod
        def utcnow(cls) -> _SkewedDatetime:
            return super().utcnow() + _datetime.timedelta(seconds=_SKEW)

    _datetime.datetime = _SkewedDatetime  # type: ignore[misc]
