"""An order whose webhook was lost is picked up by the reconciliation job in medusa/src/jobs."""

from __future__ import annotations

import pytest

from devstack.stack import Stack

from .support import Driver, GuardedWebhook, log_lines

pytestmark = pytest.mark.e2e


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
