"""Shifts this Python process's wall clock by CHAOS_CLOCK_SKEW_SECONDS (a chaos run's skewed worker only).

Python imports `sitecustomize` at start when it is on the path; the chaos stack puts this directory on the
PYTHONPATH of its second worker alone. `datetime.now`/`utcnow` move: the times the worker writes and the
payment deadline it sets. `time.time` stays: gRPC's Python layer turns a timeout into an absolute deadline
with it and its C core checks that deadline against the real clock, so shifting it would only break the
engine connection, which a host whose clock is wrong does not see (both clocks are the same one there).
"""

from __future__ import annotations

import datetime as _datetime
import os

_SKEW = float(os.environ.get("CHAOS_CLOCK_SKEW_SECONDS", "0") or 0)

if _SKEW:

    class _SkewedDatetime(_datetime.datetime):
        @classmethod
        def now(cls, tz: _datetime.tzinfo | None = None) -> _SkewedDatetime:
            return super().now(tz) + _datetime.timedelta(seconds=_SKEW)

        @classmethod
        def utcnow(cls) -> _SkewedDatetime:
            return super().utcnow() + _datetime.timedelta(seconds=_SKEW)

    _datetime.datetime = _SkewedDatetime  # type: ignore[misc]
