"""Technical outages never become business outcomes: Medusa, or the status function, down for three
minutes while orders are in flight; every order completes after recovery, one mail each, no failure
status, no incident.

The outage is real and three minutes long: longer than the retry budget the worker used to have (five
attempts with a 5-40 s backoff, an incident after 2-4 minutes). The worker's backoff is shortened here
(1 s doubling to at most 15 s) so that recovery is seen within seconds; its outage window is the default
logic with 15 minutes instead of an hour. Waiting out the outage is the subject of these tests, so they
sleep through it, watching that nothing fails meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from devstack.shop import PlacedOrder
from devstack.stack import Stack

from .support import Driver, log_lines, poll, worker_with

pytestmark = pytest.mark.e2e

OUTAGE_SECONDS = 180.0
ORDERS = 3
FAST_RETRIES = {
    "WORKER_RETRY_BACKOFF_SECONDS": "1",
    "WORKER_MAX_RETRY_BACKOFF_SECONDS": "15",
    "WORKER_OUTAGE_WINDOW_SECONDS": "900",
}


def _accepted_orders(stack: Stack, driver: Driver) -> list[PlacedOrder]:
    """Orders whose webhooks were accepted (their processes started) while no worker runs."""
    orders = [driver.place_order() for _ in range(ORDERS)]
    medusa_log = stack.group.get("medusa").log_path
    for order in orders:
        poll(
            lambda order=order: bool(log_lines(medusa_log, f"msg_order_placed_{order.id}: delivered")),  # type: ignore[misc]
            60,
            lambda order=order: f"the webhook of {order.id} to be accepted",  # type: ignore[misc]
        )
    return orders


def _outage(stack: Stack, driver: Driver, orders: list[PlacedOrder], seconds: float) -> None:
    """The worker runs into the outage for `seconds`, and nothing becomes a failure or an incident."""
    worker_log = stack.group.get("worker").log_path
    started = time.monotonic()
    poll(lambda: bool(log_lines(worker_log, "failed (")), 60, lambda: "the worker to hit the outage")
    while time.monotonic() - started < seconds:
        for order in orders:
            (instance,) = driver.instances(order.id)
            assert instance["incident_count"] == 0, instance
        time.sleep(5)
    assert not log_lines(worker_log, "outage window is over")


def _all_complete_once(stack: Stack, driver: Driver, orders: list[PlacedOrder]) -> None:
    for order in orders:
        metadata = driver.wait_for_status(order.id, timeout=120)
        assert metadata["workflow_status"] == "completed", metadata
        assert driver.mails(order.id) == ["order-confirmation"]
        (instance,) = driver.instances(order.id)
        assert driver.engine.instance(instance["key"])["incidents"] == []


def _run_outage(stack: Stack, driver: Driver, part: str, restart: Callable[[], object]) -> None:
    with worker_with(stack, FAST_RETRIES):
        stack.stop_part("worker")
        orders = _accepted_orders(stack, driver)
        stack.stop_part(part)
        try:
            stack.start_worker(FAST_RETRIES)
            _outage(stack, driver, orders, OUTAGE_SECONDS)
        finally:
            restart()
        _all_complete_once(stack, driver, orders)


def test_medusa_down_for_three_minutes_delays_orders_but_fails_none(stack: Stack, driver: Driver) -> None:
    _run_outage(stack, driver, "medusa", stack.start_medusa)


def test_the_status_function_down_for_three_minutes_delays_orders_but_fails_none(
    stack: Stack, driver: Driver
) -> None:
    _run_outage(stack, driver, "status_update", stack.start_status_update)
