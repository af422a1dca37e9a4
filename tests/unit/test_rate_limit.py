"""The token bucket that limits the worker's calls to Medusa, and its use in the one Medusa client."""

from __future__ import annotations

import itertools
import threading
import time

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from fulfillment.errors import MedusaUnavailable, NoSlotBeforeDeadline
from fulfillment.medusa import MedusaClient
from fulfillment.rate_limit import TokenBucket, call_deadline

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


def test_the_medusa_client_takes_a_token_before_every_attempt() -> None:
    clock = [0.0]
    sleeps: list[float] = []
    bucket = TokenBucket(rate=10, clock=lambda: clock[0], sleep=sleeps.append)
    client = MedusaClient(
        MEDUSA_URL, new_webhook_secret(), max_attempts=2, backoff_seconds=0, rate_limit=bucket
    )
    with respx.mock(assert_all_called=True) as http:
        route = http.post(f"{MEDUSA_URL}/fulfillment-workflow/orders/{ORDER_ID}/cancel")
        route.side_effect = [
            httpx.Response(503, json={"message": "busy"}),
            httpx.Response(200, json={"outcome": "canceled"}),
        ]

        assert client.cancel_order(ORDER_ID).outcome == "canceled"

    assert route.call_count == 2
    assert sleeps == [pytest.approx(0.1)], "the retry waited for its own token"
    client.close()


def test_no_slot_before_the_jobs_deadline_is_an_outage_and_nothing_is_sent() -> None:
    clock = [0.0]
    bucket = TokenBucket(rate=1, clock=lambda: clock[0], sleep=lambda _: None)
    bucket.reserve(0.0)  # the next slot is a second away
    client = MedusaClient(MEDUSA_URL, new_webhook_secret(), rate_limit=bucket)
    with respx.mock(assert_all_called=False) as http:
        route = http.post(f"{MEDUSA_URL}/fulfillment-workflow/orders/{ORDER_ID}/view")

        with call_deadline(0.5), pytest.raises(MedusaUnavailable, match="deadline"):
            client.view_order(ORDER_ID)

    assert not route.called
    client.close()
