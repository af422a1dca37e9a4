"""A real order whose stock reservation disappeared ends `out_of_stock`, and the customer is told.

The trigger also exercises the subscriber's retry: the webhook function is down while the order is placed,
the subscriber retries with backoff, the reservations are deleted through the Admin API meanwhile, and
the function comes back on the same port; the retried delivery starts the process and the
reserve-inventory step finds nothing reserved.
"""

from __future__ import annotations

import json

import pytest

from devstack.stack import Stack

from .support import Driver, log_lines, poll

pytestmark = pytest.mark.e2e


def test_missing_reservation_ends_out_of_stock_and_notifies_the_customer(
    stack: Stack, driver: Driver
) -> None:
    stack.stop_part("order_webhook")
    try:
        order = driver.place_order()
        medusa_log = stack.group.get("medusa").log_path
        poll(
            lambda: len(log_lines(medusa_log, f"msg_order_placed_{order.id}: attempt")) >= 2,
            30,
            lambda: f"the subscriber to retry the webhook for {order.id}",
        )
        assert driver.delete_reservations(order.id) >= 1
    finally:
        stack.start_order_webhook()

    metadata = driver.wait_for_status(order.id)

    assert metadata["workflow_status"] == "out_of_stock", metadata
    assert log_lines(medusa_log, f"msg_order_placed_{order.id}: delivered")
    outbox = stack.outbox_dir / f"{order.id}.order-failed.json"
    poll(outbox.exists, 10, lambda: f"the failure notification {outbox}")
    notification = json.loads(outbox.read_text())
    assert notification["order_id"] == order.id
    assert notification["to"] == order.email
    assert not (stack.outbox_dir / f"{order.id}.order-confirmation.json").exists()
    assert len(driver.instances(order.id)) == 1
