"""The plugin's reconciliation job (medusa/plugin/src/jobs): it starts an order whose webhook was lost,
and never a second process for an order that has one.

The job runs every 2 s here, for orders older than 5 s (tests/e2e/conftest.py).
"""

from __future__ import annotations

import pytest

from devstack.stack import Stack

from .support import Driver, GuardedWebhook, log_lines, poll

pytestmark = pytest.mark.e2e


def test_order_started_but_not_yet_reported_is_resent_as_a_duplicate_and_runs_once(
    stack: Stack, driver: Driver
) -> None:
    # Without a worker the process starts but reports nothing: the order has no workflow_status, so the
    # job resends its webhook, which the engine must refuse while the first message is buffered.
    medusa_log = stack.group.get("medusa").log_path
    stack.stop_part("worker")
    try:
        order = driver.place_order()
        resent_as_duplicate = f'"order_id":"{order.id}","status":"duplicate"'
        poll(
            lambda: bool(log_lines(medusa_log, resent_as_duplicate)),
            60,
            lambda: f"the reconciliation job to resend the webhook for {order.id} and get 'duplicate'",
        )
        assert log_lines(medusa_log, f'"order_id":"{order.id}","status":"started"')
        assert "workflow_status" not in driver.metadata(order.id)
    finally:
        stack.start_worker()

    assert driver.wait_for_status(order.id, timeout=90)["workflow_status"] == "completed"
    assert len(driver.instances(order.id)) == 1


def test_order_whose_webhook_was_refused_is_started_by_reconciliation(
    stack: Stack, driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    # The subscriber's delivery is refused with 401 and not retried: without reconciliation it is lost.
    order = guarded_webhook.place_order(driver)
    assert driver.instances(order.id) == []

    guarded_webhook.lift()

    metadata = driver.wait_for_status(order.id, timeout=60)
    assert metadata["workflow_status"] == "completed", metadata
    assert len(driver.instances(order.id)) == 1
    assert log_lines(stack.group.get("medusa").log_path, "reconciliation:")
