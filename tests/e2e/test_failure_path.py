"""Missing stock against the real Medusa, once with each stock policy.

A real order whose reservations disappeared before its process checks them: the webhook function is down
while the order is placed, the subscriber retries with backoff, the reservations are deleted through the
Admin API meanwhile, and the function comes back on the same port; the retried delivery starts the process
and the reserve-inventory step finds nothing reserved. Policy `hold` (the default) keeps the order open for
staff and mails nobody; policy `cancel` cancels it in Medusa and tells the customer.
"""

from __future__ import annotations

import json

import pytest

from devstack.shop import PlacedOrder
from devstack.stack import Stack

from .support import Driver, log_lines, poll, worker_with

pytestmark = pytest.mark.e2e


def _order_with_its_reservations_gone(stack: Stack, driver: Driver) -> PlacedOrder:
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
    return order


def test_missing_stock_with_the_default_hold_policy_keeps_the_order_open_without_mail(
    stack: Stack, driver: Driver
) -> None:
    order = _order_with_its_reservations_gone(stack, driver)

    metadata = driver.wait_for_status(order.id)

    assert metadata["workflow_status"] == "out_of_stock", metadata
    assert "held for staff" in metadata["workflow_message"]
    assert driver.admin.order(order.id)["status"] == "pending", "the order stays open for staff"
    assert driver.mails(order.id) == []
    assert len(driver.instances(order.id)) == 1


def test_missing_stock_with_the_cancel_policy_cancels_the_order_and_tells_the_customer(
    stack: Stack, driver: Driver
) -> None:
    with worker_with(stack, {"STOCK_POLICY": "cancel"}):
        order = _order_with_its_reservations_gone(stack, driver)
        metadata = driver.wait_for_status(order.id)
        assert metadata["workflow_status"] == "out_of_stock", metadata
        poll(
            lambda: driver.admin.order(order.id)["status"] == "canceled",
            30,
            lambda: f"order {order.id} to be canceled in Medusa",
        )
        poll(lambda: bool(driver.mails(order.id)), 30, lambda: f"the mail for {order.id}")

    assert driver.mails(order.id) == ["order-canceled-stock"]
    notification = json.loads((stack.outbox_dir / f"{order.id}.order-canceled-stock.json").read_text())
    assert notification["to"] == order.email
    assert "has been canceled" in notification["subject"]
