"""The benchmarks' arithmetic: a phase's steady rate, calls per order, and what the counting proxy keeps for
Medusa's ceiling to replay."""

from __future__ import annotations

import pytest

from benchmarks.counting_proxy import STATUS_WRITE, VIEW, Tally, classify
from benchmarks.figures import SteadyRate, floored_percent
from benchmarks.throughput import CallsPerOrder


def test_the_steady_rate_leaves_out_the_ramp_and_the_drain() -> None:
    # 10 calls: a slow first one (the ramp), eight a tenth of a second apart, a slow last one (the drain).
    answered = [1.0, *(2.0 + 0.1 * step for step in range(8)), 9.0]
    rate = SteadyRate.of([(0.0, done) for done in answered], calls_per_order=4)

    # From the second answer to the ninth: seven calls answered in 0.7 s.
    assert rate.calls == 7
    assert rate.seconds == pytest.approx(0.7)
    assert rate.calls_per_s == pytest.approx(10.0)
    assert rate.orders_per_s == pytest.approx(2.5)
    assert rate.whole_seconds == pytest.approx(9.0)
    assert rate.in_flight == pytest.approx(sum(answered) / 9.0)  # every call was sent at 0


def test_a_phase_with_too_few_calls_has_no_steady_part() -> None:
    with pytest.raises(ValueError, match="too few"):
        SteadyRate.of([(0.0, 1.0)], calls_per_order=4)


def test_calls_per_order_are_counted_by_kind_and_by_caller() -> None:
    calls = CallsPerOrder.counted({VIEW: 10, STATUS_WRITE: 30}, orders=10)

    assert calls.total == 4.0
    assert calls.by_caller() == {"order_webhook": 0.0, "worker": 1.0, "status_update": 3.0, "unexpected": 0.0}


def test_a_share_is_floored_so_89_9_percent_does_not_print_as_90() -> None:
    assert floored_percent(0.899) == "89%"


def test_the_proxy_keeps_each_orders_calls_in_order_for_a_replay() -> None:
    tally = Tally(phase="burst")
    for route, body in (("view", b"{}"), ("status", b'{"metadata": {"workflow_status": "completed"}}')):
        path = f"/fulfillment-workflow/orders/order_1/{route}"
        kind, order_id = classify("POST", path)
        tally.record("POST", path, kind, order_id, 200, (1.0, 1.5), body)
    path = "/fulfillment-workflow/orders/order_2/view"
    tally.record("POST", path, VIEW, "order_2", 503, (2.0, 2.1), b"{}")

    assert tally.exchanges["burst"]["order_1"] == [
        (VIEW, "/fulfillment-workflow/orders/order_1/view", "{}"),
        (
            STATUS_WRITE,
            "/fulfillment-workflow/orders/order_1/status",
            '{"metadata": {"workflow_status": "completed"}}',
        ),
    ]
    assert "order_2" not in tally.exchanges["burst"]  # a failed call is not work to replay
    assert tally.moments["burst"] == [(1.0, 1.5), (1.0, 1.5), (2.0, 2.1)]
