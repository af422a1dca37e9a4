"""The worker's limit on its calls to Medusa (a token bucket and a bound on the calls in flight), and its
use in the one Medusa client."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from fulfillment.errors import MedusaUnavailable, NoSlotBeforeDeadline
from fulfillment.medusa import MedusaClient
from fulfillment.rate_limit import CallLimit, TokenBucket, call_deadline, call_slot

from .helpers import MEDUSA_URL, ORDER_ID, new_webhook_secret

EPSILON = 1e-6

arrival_gaps = st.lists(st.floats(min_value=0, max_value=2, allow_nan=False), min_size=1, max_size=60)
rates = st.floats(min_value=0.5, max_value=200)
capacities = st.integers(min_value=1, max_value=10)


def serve(bucket: TokenBucket, gaps: list[float]) -> tuple[list[float], list[float]]:
    """Callers arriving `gaps` apart, in order; their arrival times and the start times they are given."""
    arrivals, now = [], 0.0
    for gap in gaps:
        now += gap
        arrivals.append(now)
    return arrivals, [bucket.reserve(arrival) for arrival in arrivals]


@given(gaps=arrival_gaps, rate=rates, capacity=capacities)
def test_no_span_of_time_holds_more_calls_than_the_burst_plus_the_rate(
    gaps: list[float], rate: float, capacity: int
) -> None:
    _, starts = serve(TokenBucket(rate, capacity), gaps)

    for first, start in enumerate(starts):
        for last in range(first, len(starts)):
            span = starts[last] - start
            assert last - first + 1 <= capacity + rate * span + EPSILON


@given(gaps=arrival_gaps, rate=rates, capacity=capacities)
def test_callers_wait_in_turn_and_no_longer_than_a_classic_bucket_makes_them(
    gaps: list[float], rate: float, capacity: int
) -> None:
    arrivals, starts = serve(TokenBucket(rate, capacity), gaps)

    # The textbook bucket: tokens refill continuously up to the capacity; a caller takes one, running into
    # debt when there is none, and waits until the debt is paid.
    tokens, last = float(capacity), 0.0
    for arrival, start in zip(arrivals, starts, strict=True):
        tokens = min(capacity, tokens + (arrival - last) * rate) - 1
        last = arrival
        assert start >= arrival
        assert start == pytest.approx(arrival + max(0.0, -tokens) / rate, abs=EPSILON)
    assert starts == sorted(starts)


def test_a_slot_after_the_deadline_is_refused_and_left_for_the_next_caller() -> None:
    bucket = TokenBucket(rate=2)  # one call every 0.5 s
    assert bucket.reserve(0.0) == 0.0

    with pytest.raises(NoSlotBeforeDeadline):
        bucket.reserve(0.0, deadline=0.4)

    assert bucket.reserve(0.0, deadline=0.5) == 0.5


def test_acquire_waits_for_the_slot_within_the_bound_deadline() -> None:
    clock = [10.0]
    sleeps: list[float] = []
    bucket = TokenBucket(rate=4, clock=lambda: clock[0], sleep=sleeps.append)

    assert bucket.acquire() == 0.0
    with call_deadline(11.0):
        assert bucket.acquire() == 0.25
        assert bucket.acquire() == 0.5
    with call_deadline(10.6), pytest.raises(NoSlotBeforeDeadline):
        bucket.acquire()

    assert sleeps == [0.25, 0.5]


def test_threads_reserving_at_once_each_get_their_own_slot() -> None:
    bucket = TokenBucket(rate=1000)
    slots: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def caller() -> None:
        start.wait()
        for _ in range(200):
            slot = bucket.reserve(time.monotonic())
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    slots.sort()
    # 1,600 reservations faster than 1,000/s: each slot one interval after the one before, none shared.
    assert all(later - earlier >= 1 / 1000 - EPSILON for earlier, later in itertools.pairwise(slots))


@pytest.mark.parametrize(("rate", "capacity"), [(0, 1), (-1, 1), (1, 0.5)])
def test_a_bucket_that_could_never_serve_is_refused(rate: float, capacity: float) -> None:
    with pytest.raises(ValueError, match="token bucket"):
        TokenBucket(rate, capacity)


# --- the bound on calls in flight -------------------------------------------------------------------

# How long a test waits for threads to get where it expects them: far beyond what they need.
WAIT_SECONDS = 10.0
# Calls per second so many that no caller waits for a token: only the bound on calls in flight paces them.
NO_RATE_TO_SPEAK_OF = 1e9


class Refused(Exception):
    """The caller's own technical-fault error in these tests."""


class Callers:
    """Threads that each hold a place of `limit` until the test lets the next one go, counting who is in."""

    def __init__(self, limit: CallLimit) -> None:
        self.limit = limit
        self.changed = threading.Condition()
        self.arrived = 0
        self.inside = 0
        self.most_inside = 0
        self.let_go = 0
        self.gone = 0

    def call(self) -> None:
        with self.changed:
            self.arrived += 1
            self.changed.notify_all()
        with call_slot(self.limit, Refused), self.changed:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.changed.notify_all()
            assert self.changed.wait_for(lambda: self.let_go > self.gone, WAIT_SECONDS)
            self.gone += 1
            self.inside -= 1
            self.changed.notify_all()

    def wait_until(self, arrived: int, inside: int, gone: int) -> None:
        wanted = (arrived, inside, gone)
        with self.changed:
            reached = self.changed.wait_for(lambda: self.counts == wanted, WAIT_SECONDS)
            assert reached, f"(arrived, inside, gone) are {self.counts}, not {wanted}"

    @property
    def counts(self) -> tuple[int, int, int]:
        return self.arrived, self.inside, self.gone

    def let_one_go(self) -> None:
        with self.changed:
            self.let_go += 1
            self.changed.notify_all()


def test_no_more_callers_than_the_bound_are_under_way_at_once_and_each_waiting_one_gets_its_turn() -> None:
    bound, callers_count = 3, 8
    callers = Callers(CallLimit(NO_RATE_TO_SPEAK_OF, max_in_flight=bound))

    with ThreadPoolExecutor(callers_count) as threads:
        calls = [threads.submit(callers.call) for _ in range(callers_count)]
        for gone in range(callers_count):
            # All have asked; whoever leaves makes room for exactly one of those still waiting.
            callers.wait_until(arrived=callers_count, inside=min(bound, callers_count - gone), gone=gone)
            callers.let_one_go()
        for call in calls:
            call.result(WAIT_SECONDS)

    assert callers.gone == callers_count
    assert callers.most_inside == bound
    assert callers.limit.in_flight == 0


def test_a_caller_with_no_place_before_its_deadline_gets_its_own_error_and_holds_nothing() -> None:
    limit = CallLimit(NO_RATE_TO_SPEAK_OF, max_in_flight=1)

    with call_slot(limit, Refused):
        with (
            call_deadline(time.monotonic() + 0.05),
            pytest.raises(Refused, match="deadline") as refused,
            call_slot(limit, Refused),
        ):
            pytest.fail("two calls under way with room for one")
        assert isinstance(refused.value.__cause__, NoSlotBeforeDeadline)
        assert limit.in_flight == 1

    # The refused caller took no place: the next one gets it at once.
    with call_deadline(time.monotonic() + WAIT_SECONDS), call_slot(limit, Refused):
        assert limit.in_flight == 1
    assert limit.in_flight == 0


def test_a_call_that_fails_gives_its_place_back_and_its_error_passes_unchanged() -> None:
    limit = CallLimit(NO_RATE_TO_SPEAK_OF, max_in_flight=1)

    for _ in range(3):
        with pytest.raises(httpx.ConnectError), call_slot(limit, Refused):
            raise httpx.ConnectError("connection refused")
        assert limit.in_flight == 0


@given(bound=st.integers(min_value=1, max_value=5), steps=st.lists(st.booleans(), max_size=40))
def test_calls_starting_and_ending_in_any_order_never_exceed_the_bound(bound: int, steps: list[bool]) -> None:
    # A clock that stands still and a rate so high that every token is due long before the deadline: only
    # the bound decides, and a start that finds no place is refused after a wait of 0.1 ms.
    limit = CallLimit(NO_RATE_TO_SPEAK_OF, max_in_flight=bound, clock=lambda: 0.0, sleep=lambda _: None)
    under_way: list[ExitStack] = []
    for starts in steps:
        if starts:
            call = ExitStack()
            with call_deadline(1e-4):
                try:
                    call.enter_context(call_slot(limit, Refused))
                    under_way.append(call)
                except Refused:
                    assert len(under_way) == bound, "refused while there was room"
        elif under_way:
            under_way.pop(0).close()
        assert limit.in_flight == len(under_way) <= bound
    for call in under_way:
        call.close()
    assert limit.in_flight == 0


def test_a_limit_with_no_room_for_a_call_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one call"):
        CallLimit(10, max_in_flight=0)


# --- the Medusa client -------------------------------------------------------------------------------


def test_the_medusa_client_takes_a_turn_for_every_attempt_and_holds_it_only_while_it_is_under_way() -> None:
    clock = [0.0]
    sleeps: list[float] = []
    limit = CallLimit(10, max_in_flight=1, clock=lambda: clock[0], sleep=sleeps.append)
    client = MedusaClient(
        MEDUSA_URL, new_webhook_secret(), max_attempts=2, backoff_seconds=0, call_limit=limit
    )
    held_while_sent: list[int] = []

    def answer(answers: list[httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
        def send(_: httpx.Request) -> httpx.Response:
            held_while_sent.append(limit.in_flight)
            return answers.pop(0)

        return send

    with respx.mock(assert_all_called=True) as http:
        route = http.post(f"{MEDUSA_URL}/fulfillment-workflow/orders/{ORDER_ID}/cancel")
        route.side_effect = answer(
            [httpx.Response(503, json={"message": "busy"}), httpx.Response(200, json={"outcome": "canceled"})]
        )

        assert client.cancel_order(ORDER_ID).outcome == "canceled"

    assert route.call_count == 2
    assert sleeps == [pytest.approx(0.1)], "the retry waited for its own token"
    # With room for one call, the retry got its place only because the first attempt gave it back.
    assert held_while_sent == [1, 1]
    assert limit.in_flight == 0
    client.close()


def test_no_slot_before_the_jobs_deadline_is_an_outage_and_nothing_is_sent() -> None:
    clock = [0.0]
    limit = CallLimit(1, max_in_flight=8, clock=lambda: clock[0], sleep=lambda _: None)
    limit.rate.reserve(0.0)  # the next token is a second away
    client = MedusaClient(MEDUSA_URL, new_webhook_secret(), call_limit=limit)
    with respx.mock(assert_all_called=False) as http:
        route = http.post(f"{MEDUSA_URL}/fulfillment-workflow/orders/{ORDER_ID}/view")

        with call_deadline(0.5), pytest.raises(MedusaUnavailable, match="deadline"):
            client.view_order(ORDER_ID)

    assert not route.called
    client.close()
