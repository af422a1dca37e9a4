"""The worker's one limit on its calls to Medusa: a rate, and a bound on the calls in flight at once.

The rate is a token bucket that makes callers wait, never fail. The bucket holds `capacity` tokens and
gains `rate` tokens per second. It is kept as the time at which the next token is free (the "virtual
scheduling" form of a token bucket, GCRA): a caller reserves the next free slot under a lock and then sleeps
until it, so callers are served in the order they asked, nothing polls, and over any span of `t` seconds at
most `capacity + rate * t` calls start. With capacity 1 (the default) calls are simply spaced at least
`1 / rate` apart.

The bound on calls in flight counts the calls under way, like a connection pool's limit: when Medusa slows
down, the calls beyond it wait here, where waiting costs the shop nothing, instead of piling up at Medusa
(docs/configuration.md, MEDUSA_MAX_CALLS_IN_FLIGHT). A caller holds one place per attempt, taken after its
token, from sending the call until its answer has come back: never across a retry's backoff.

A wait is bounded by the deadline of the work it serves: a worker thread binds its job's deadline with
`call_deadline(...)`, and a token or a place that would only come after it is not taken
(`NoSlotBeforeDeadline`): past its deadline the engine hands the job to another worker anyway. With the
worker's settings checked at start (worker_job/config.py) no wait for a token comes near a job's timeout;
a wait for a place lasts as long as Medusa takes to answer the calls ahead of it.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from fulfillment.errors import NoSlotBeforeDeadline

_NO_DEADLINE: Final = float("inf")

# The monotonic time by which the work this thread does must be done (a job's deadline); none outside a job.
_deadline: contextvars.ContextVar[float] = contextvars.ContextVar("call_deadline", default=_NO_DEADLINE)


@contextmanager
def call_deadline(monotonic_deadline: float) -> Iterator[None]:
    """Bounds every wait for a call slot inside the block by `monotonic_deadline` (time.monotonic())."""
    token = _deadline.set(monotonic_deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def current_deadline() -> float:
    return _deadline.get()


class TokenBucket:
    """`rate` calls per second with bursts of at most `capacity`; thread-safe."""

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for at least one token")
        self.rate = rate
        self.capacity = capacity
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # When the bucket next holds a token if nobody took any meanwhile: a full bucket is one that has
        # been refilling since `capacity` intervals ago.
        self._next_free = -_NO_DEADLINE

    def reserve(self, now: float, deadline: float = _NO_DEADLINE) -> float:
        """The start time of the caller's slot (>= now), taken from the bucket; raises NoSlotBeforeDeadline
        (taking nothing) when that slot would come after `deadline`."""
        with self._lock:
            # A bucket that sat idle holds at most `capacity` tokens: its backlog starts no earlier than that.
            earliest = now - (self.capacity - 1) * self._interval
            slot_base = max(self._next_free, earliest)
            slot = max(now, slot_base)
            if slot > deadline:
                raise NoSlotBeforeDeadline(
                    f"the next Medusa call slot is {slot - now:.2f} s away, after the job's deadline"
                )
            self._next_free = slot_base + self._interval
            return slot

    def acquire(self) -> float:
        """Waits for a token, at most until the deadline bound with `call_deadline`; returns the wait."""
        now = self._clock()
        slot = self.reserve(now, current_deadline())
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait


class CallLimit:
    """At most `calls_per_second` calls start per second and at most `max_in_flight` are under way at once;
    thread-safe. One is shared by every caller it limits (the worker's Medusa client and status reporter)."""

    def __init__(
        self,
        calls_per_second: float,
        max_in_flight: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("a call limit needs room for at least one call in flight")
        self.rate = TokenBucket(calls_per_second, clock=clock, sleep=sleep)
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._room = threading.Condition()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Calls under way now (places held)."""
        with self._room:
            return self._in_flight

    def acquire(self) -> None:
        """Waits for a token, then for a place among the calls in flight, both at most until the deadline
        bound with `call_deadline`; raises NoSlotBeforeDeadline holding no place when that passes (a token
        already taken stays spent: the rate only ever errs on the side of fewer calls)."""
        self.rate.acquire()
        deadline = current_deadline()
        # The wait is in real time, for what is left of the deadline (a time.monotonic() value).
        timeout = None if deadline == _NO_DEADLINE else max(0.0, deadline - self._clock())
        with self._room:
            if not self._room.wait_for(lambda: self._in_flight < self.max_in_flight, timeout):
                raise NoSlotBeforeDeadline(
                    f"all {self.max_in_flight} Medusa calls in flight are still under way at the job's "
                    "deadline"
                )
            self._in_flight += 1

    def release(self) -> None:
        with self._room:
            self._in_flight -= 1
            self._room.notify()


@contextmanager
def call_slot(
    limit: CallLimit | None, failure: Callable[[NoSlotBeforeDeadline], Exception]
) -> Iterator[None]:
    """Holds a turn of `limit` (None: no limit) around one attempt of a call: enter before sending it, leave
    once its answer has come back. No turn before the deadline raises `failure(...)`, the caller's own
    technical-fault error, so the job is tried again later like after any outage; an error inside the block
    passes through unchanged and the place is given back."""
    if limit is None:
        yield
        return
    try:
        limit.acquire()
    except NoSlotBeforeDeadline as exc:
        raise failure(exc) from exc
    try:
        yield
    finally:
        limit.release()
