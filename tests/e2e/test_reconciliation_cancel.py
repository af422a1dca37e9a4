"""The plugin's reconciliation of an order canceled before any process reported on it: the cancel is
delivered once, the order is recorded `canceled` for staff, and then left alone; its `order.placed`
starts no process.

The job runs every 2 s here, for orders older than 5 s (tests/e2e/conftest.py).
"""

from __future__ import annotations

import pytest

from devstack.stack import Stack

from .support import Driver, GuardedWebhook, log_lines, poll

pytestmark = pytest.mark.e2e

# medusa/plugin/src/jobs/reconcile-order-events.ts, CANCELED_BEFORE_START_MESSAGE
RECORDED = "Canceled in Medusa before any step of its fulfillment workflow reported."
JOB_RUNS_TO_WATCH = 3


def test_an_order_canceled_while_the_webhook_is_down_starts_nothing_when_it_is_back(
    stack: Stack, driver: Driver
) -> None:
    # The subscriber's order.placed retries through the outage; staff cancel the order meanwhile. Once
    # the webhook is back, that delivery must not start a process for the canceled order.
    log = stack.subscriber_log
    stack.stop_part("order_webhook")
    try:
        order = driver.place_order()
        placed_failed = f"msg_order_placed_{order.id}: attempt 1/"
        poll(lambda: bool(log_lines(log, placed_failed)), 30, lambda: "the first attempt to fail")
        driver.admin.post(f"/admin/orders/{order.id}/cancel")
    finally:
        stack.start_order_webhook()

    not_sent = f"order {order.id}: order.placed not forwarded, the order was canceled"
    poll(lambda: bool(log_lines(log, not_sent)), 60, lambda: "the retried order.placed to be dropped")
    metadata = driver.wait_for_status(order.id, {"canceled"}, timeout=60)
    assert metadata["workflow_message"].startswith(RECORDED), metadata
    assert not log_lines(log, f"msg_order_placed_{order.id}: delivered")
    assert driver.instances(order.id) == []


def test_an_order_canceled_while_the_webhook_refuses_is_canceled_once_then_left_alone(
    stack: Stack, driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    log = stack.group.get("medusa").log_path
    order = guarded_webhook.place_order(driver)
    # A clock: a canceled order whose process reported and never ended is sent its cancel on every run.
    clock = guarded_webhook.place_order(driver)
    driver.reset_workflow_status(clock.id, "awaiting_payment")
    for canceled in (order, clock):
        driver.admin.post(f"/admin/orders/{canceled.id}/cancel")
    refused = f"msg_order_canceled_{order.id}: permanently rejected with HTTP 401"
    # The subscriber's delivery and then the job's: refused while the webhook refuses, and tried again.
    poll(lambda: len(log_lines(log, refused)) >= 2, 60, lambda: "the job to try the refused cancel again")
    assert "workflow_status" not in driver.metadata(order.id)

    guarded_webhook.lift()

    metadata = driver.wait_for_status(order.id, {"canceled"}, timeout=60)
    assert metadata["workflow_message"].startswith(RECORDED), metadata
    clock_sent = f"msg_order_canceled_{clock.id}: delivered"
    runs_before = len(log_lines(log, clock_sent))
    poll(
        lambda: len(log_lines(log, clock_sent)) >= runs_before + JOB_RUNS_TO_WATCH,
        60,
        lambda: f"{JOB_RUNS_TO_WATCH} more runs of the job",
    )
    assert len(log_lines(log, f"msg_order_canceled_{order.id}: delivered")) == 1
    assert not log_lines(log, f"msg_order_placed_{order.id}: delivered")
    assert driver.instances(order.id) == []
    assert driver.metadata(order.id) == metadata
