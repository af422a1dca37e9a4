"""The plugin's delivery never holds the shop's events: while the order webhook hangs, the plugin's
order.placed subscriber hands the delivery to Medusa's workflow engine at once and the shop's own slow
subscriber on the same event starts within a second; once the webhook is back the engine's retry
delivers, and one process runs. A lost order.canceled is sent again by the reconciliation job.

The in-memory event bus runs an event's subscribers side by side, so here only the plugin's own hand-off
shows the difference; tests/production runs the same outage on the Redis event bus, where a subscriber
that holds its event holds every later one.
"""

from __future__ import annotations

import pytest

from devstack.stack import Stack, new_webhook_secret

from .delivery_support import (
    MAX_HANDOFF_MS,
    MAX_SHOP_SUBSCRIBER_WAIT_MS,
    delivered_attempts,
    handoff_ms,
    receiver_hanging,
    shop_event,
)
from .support import Driver, GuardedWebhook, log_lines, poll

pytestmark = pytest.mark.e2e

ORDERS = 2


def test_the_subscriber_hands_over_at_once_while_the_webhook_hangs_and_the_engine_delivers_later(
    stack: Stack, driver: Driver
) -> None:
    log = stack.subscriber_log
    with receiver_hanging(stack):
        orders = [driver.place_order() for _ in range(ORDERS)]
        for order in orders:
            shop = shop_event(stack, order.id)
            assert shop["waited_ms"] <= MAX_SHOP_SUBSCRIBER_WAIT_MS, shop
            handoff = handoff_ms(log, f"msg_order_placed_{order.id}")
            assert handoff <= MAX_HANDOFF_MS, f"the plugin's subscriber took {handoff} ms"
        first = f"msg_order_placed_{orders[0].id}: attempt 1/"
        poll(lambda: bool(log_lines(log, first)), 60, lambda: "a first attempt that ran into the timeout")
        assert not log_lines(log, f"msg_order_placed_{orders[0].id}: delivered")

    for order in orders:
        assert driver.wait_for_status(order.id, timeout=120)["workflow_status"] == "completed"
        assert len(driver.instances(order.id)) == 1
        # The engine's retry of the subscriber's delivery got through (the job's resends are attempt 1).
        poll(
            lambda order=order: any(n > 1 for n in delivered_attempts(log, f"msg_order_placed_{order.id}")),  # type: ignore[misc]
            60,
            lambda order=order: f"the retried delivery of {order.id}",  # type: ignore[misc]
        )


def test_a_lost_order_canceled_is_sent_again_by_reconciliation(stack: Stack, driver: Driver) -> None:
    # No worker: the order's process starts and waits at its payment check, where only the order-canceled
    # message can end it. (A worker would find the order canceled at its next step anyway; the message
    # boundary event in the process history shows that the resent cancel is what ended it.)
    log = stack.subscriber_log
    stack.stop_part("worker")
    try:
        order = driver.place_order()
        delivered = f"msg_order_placed_{order.id}: delivered"
        poll(lambda: bool(log_lines(log, delivered)), 60, lambda: f"the process of {order.id} to start")
        _cancel_while_the_webhook_refuses_it(stack, driver, order.id)

        resent = f'"order_id":"{order.id}","status":"canceled"'
        poll(lambda: bool(log_lines(log, resent)), 60, lambda: "the reconciliation job to resend the cancel")
        poll(
            lambda: "CanceledWhilePaying" in _history(driver, order.id),
            30,
            lambda: "the message to end the step",
        )
    finally:
        stack.start_worker()

    assert driver.wait_for_status(order.id, timeout=90)["workflow_status"] == "canceled"
    assert log_lines(log, "canceled order(s) whose workflow has not ended, sending order.canceled again")
    assert len(driver.instances(order.id)) == 1


def _cancel_while_the_webhook_refuses_it(stack: Stack, driver: Driver, order_id: str) -> None:
    """Staff cancel the order while the webhook refuses the plugin's events (401, never retried): without
    reconciliation the cancel is lost."""
    guarded = GuardedWebhook(stack, new_webhook_secret())
    stack.stop_part("order_webhook")
    stack.start_order_webhook({"ORDER_WEBHOOK_SECRET": guarded.secret})
    try:
        driver.admin.post(f"/admin/orders/{order_id}/cancel")
        refused = f"msg_order_canceled_{order_id}: permanently rejected with HTTP 401"
        poll(lambda: bool(log_lines(stack.subscriber_log, refused)), 30, lambda: "the cancel to be refused")
    finally:
        guarded.lift()


def _history(driver: Driver, order_id: str) -> set[str]:
    (instance,) = driver.instances(order_id)
    return {event["element_id"] for event in driver.engine.instance(instance["key"])["history"]}
