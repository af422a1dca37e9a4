"""What the worker knows about its connection to the gateway, from its pollers' round trips.

Every poller reports each ActivateJobs call that came back (with or without jobs, or refused by
back-pressure: the gateway answered, busy) and each that did not (unreachable, deadline exceeded, refused
credentials, anything else). The link logs only when that state changes, not once per attempt:
`engine_unreachable` (WARNING) when the first call fails, `engine_reachable` (INFO) when a call comes back
again, with how long it was gone; `engine_back_pressure` (INFO) when polls start being refused by
back-pressure. A report about a call that started before the last change says nothing
new and is ignored: a gateway shutting down still completes the long polls it holds while it refuses new
calls, and those late answers must not read as "back again". The heartbeat reads the time of the last
round trip.

A poller whose call failed waits before the next: from FIRST_PAUSE_SECONDS doubling up to
LONGEST_PAUSE_SECONDS, each pause drawn between half and all of that (jitter, so that many workers do not
knock at once). It never gives up: an engine outage of any length ends with the same worker polling.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Final

import grpc

logger = logging.getLogger(__name__)

FIRST_PAUSE_SECONDS: Final = 0.5
# gRPC reconnects the channel at least every 5 s (fulfillment/engine.py): polling about as often notices a
# gateway that is back within seconds, without hammering one that is not.
LONGEST_PAUSE_SECONDS: Final = 10.0


def pause_after(failures: int, draw: Callable[[float, float], float] = random.uniform) -> float:
    """The pause before the next call after `failures` calls in a row failed (jittered, capped)."""
    ceiling = min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** min(max(failures - 1, 0), 16))
    return draw(ceiling / 2, ceiling)


class GatewayLink:
    """Whether the gateway answers the pollers, shared by all of them (one event loop, no locking)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.reachable: bool | None = None  # None until the first call came back or failed
        self.last_round_trip: float | None = None
        self._unreachable_since: float | None = None
        self._changed_at = -float("inf")
        self._busy = False

    def now(self) -> float:
        """The link's clock: what a poller passes as `started_at` when it opens a call."""
        return self._clock()

    def answered(self, started_at: float, *, normally: bool = True) -> None:
        """A call to the gateway, opened at `started_at`, came back."""
        if started_at < self._changed_at:
            return
        if normally:
            self._busy = False
        now = self._clock()
        self.last_round_trip = now
        if self.reachable is True:
            return
        self._changed_at = now
        gone_for = None if self._unreachable_since is None else now - self._unreachable_since
        self.reachable = True
        self._unreachable_since = None
        logger.info(
            "engine reachable: polling for jobs"
            + ("" if gone_for is None else f" again after {gone_for:.1f} s"),
            extra={
                "event": "engine_reachable",
                "unreachable_seconds": None if gone_for is None else round(gone_for, 1),
            },
        )

    def busy(self, error: BaseException, started_at: float) -> None:
        """A call opened at `started_at` was refused by back-pressure: the gateway answered, but is busy.
        Logged once until a call comes back normally again."""
        if started_at < self._changed_at:
            return
        self.answered(started_at, normally=False)
        if self._busy:
            return
        self._busy = True
        logger.info(
            "engine in back-pressure: polling backs off",
            extra={"event": "engine_back_pressure", "error_type": type(error).__name__},
        )

    def failed(self, error: BaseException, started_at: float) -> None:
        """A call to the gateway, opened at `started_at`, did not come back."""
        if self.reachable is False or started_at < self._changed_at:
            return
        self.reachable = False
        self._unreachable_since = self._changed_at = self._clock()
        logger.warning(
            "engine unreachable: polling goes on, each poller retrying at most every %.0f s: %s",
            LONGEST_PAUSE_SECONDS,
            _describe(error),
            extra={"event": "engine_unreachable", "error_type": type(error).__name__},
        )

    def answered_within(self, seconds: float) -> bool:
        return self.last_round_trip is not None and self._clock() - self.last_round_trip <= seconds


def _describe(error: BaseException) -> str:
    """The gRPC status and details when there are some (pyzeebe's errors wrap the gRPC error)."""
    rpc_error = getattr(error, "grpc_error", error)
    if isinstance(rpc_error, grpc.aio.AioRpcError):
        return f"{type(error).__name__}: {rpc_error.code().name}: {rpc_error.details()}"[:300]
    return f"{type(error).__name__}: {error}"[:300]
