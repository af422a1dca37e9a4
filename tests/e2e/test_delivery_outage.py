"""The plugin's delivery never holds the shop's events: while the order webhook hangs, the plugin's
order.placed subscriber hands the delivery to Medusa's workflow engine at once and the shop's own
subscriber on the same event starts within a second; once the webhook is back the engine's retry
delivers, and one process runs. A lost order.canceled is sent again by the reconciliation job.

The in-memory event bus runs an event's subscribers side by side, so here only the plugin's own hand-off
shows the difference; tests/production runs the same outage on the Redis event bus, where a subscriber
that holds its event holds every later one.
"""

from __future__ import annotations

import pytest

from devstack.stack import Stack, new_webhook_secret

from .delivery_support import outage_without_held_events
from .support import Driver, GuardedWebhook, log_lines, poll

pytestmark = pytest.mark.e2e


def test_the_subscriber_hands_over_at_once_while_the_webhook_hangs_and_the_engine_delivers_later(
    stack: Stack, driver: Driver
) -> None:
    outage_without_held_events(stack, driver, orders=2)


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
