"""SIGTERM to the worker while it has jobs in flight: it finishes them, exits 0, and no order is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.shop import PlacedOrder
from devstack.stack import Stack

from .support import TERMINAL, Driver, poll

pytestmark = pytest.mark.e2e

ORDERS = 4


def test_worker_sigterm_with_jobs_in_flight_loses_no_order(stack: Stack, driver: Driver) -> None:
    with ThreadPoolExecutor(ORDERS) as pool:
        orders: list[PlacedOrder] = list(pool.map(lambda _: driver.place_order(), range(ORDERS)))
    # Stop the worker as soon as the workflow is under way for any of them.
    poll(
        lambda: any(driver.metadata(order.id).get("workflow_status") for order in orders),
        30,
        lambda: "the first job to start",
    )
    worker_log = stack.group.get("worker").log_path

    exit_code = stack.stop_part("worker")

    assert exit_code == 0, worker_log.read_text()[-3000:]
    stack.start_worker()
    finals = {order.id: driver.wait_for_status(order.id, TERMINAL, timeout=90) for order in orders}
    assert {m["workflow_status"] for m in finals.values()} == {"completed"}, finals
    for order in orders:
        assert len(driver.instances(order.id)) == 1
