"""The worker-mode Medusa restarted in the middle of a delivery: the order is still delivered, and its
process started exactly once.

The order webhook is down when the order is placed, so the plugin's delivery is retrying when the worker
is stopped (SIGTERM, then SIGKILL after the stack's grace period, as an orchestrator does). The worker comes
back while the webhook is still down, then the webhook comes back: whatever Medusa's Redis event bus, its
workflow engine and the plugin's reconciliation make of the interrupted delivery, the order is delivered,
one process instance runs it to `completed`, and the customer gets one confirmation.
"""

from __future__ import annotations

import time

import pytest
from e2e.support import Driver, log_lines, poll

from devstack.stack import Stack

pytestmark = pytest.mark.production


def test_a_worker_restarted_during_a_delivery_still_delivers_the_order_and_starts_it_once(
    stack: Stack, driver: Driver
) -> None:
    worker_log = stack.group.get("medusa_worker").log_path
    stack.stop_part("order_webhook")
    try:
        order = driver.place_order()
        poll(
            lambda: any("failed" in line for line in log_lines(worker_log, order.id)),
            60,
            lambda: f"a failed delivery attempt for {order.id} in {worker_log}",
        )
        stopping = time.monotonic()
        stack.stop_part("medusa_worker")
        stopped_after = time.monotonic() - stopping
        stack.start_medusa_worker()
    finally:
        stack.stop_part("order_webhook")
        stack.start_order_webhook()
    webhook_back = time.monotonic()

    metadata = driver.wait_for_status(order.id, timeout=180)
    completed_after = time.monotonic() - webhook_back

    assert metadata["workflow_status"] == "completed", metadata
    instances = driver.instances(order.id)
    assert len(instances) == 1, instances
    assert driver.mails(order.id) == ["order-confirmation"]
    deliveries = log_lines(worker_log, f"msg_order_placed_{order.id}: delivered")
    print(
        f"\nworker restarted during a delivery: stopped in {stopped_after:.1f} s; completed "
        f"{completed_after:.1f} s after the webhook came back; deliveries logged: {len(deliveries)}"
    )
