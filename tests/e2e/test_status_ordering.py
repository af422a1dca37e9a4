"""On an order in progress, the status function applies only updates that move it forward in rank."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .support import Driver, GuardedWebhook, status_update

pytestmark = pytest.mark.e2e


def test_out_of_order_and_stale_updates_never_move_a_running_order_back(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    # No process runs for this order, so the updates below are the only writers besides the shop.
    order = guarded_webhook.place_order(driver)
    driver.admin.post(f"/admin/orders/{order.id}", {"metadata": {"gift_note": "Happy birthday"}})
    now = datetime.now(UTC)

    forward = driver.apply_status(status_update(order.id, "inventory_reserved", now))
    backwards = driver.apply_status(status_update(order.id, "payment_verified", now + timedelta(seconds=1)))
    repeated = driver.apply_status(status_update(order.id, "inventory_reserved", now + timedelta(seconds=2)))

    assert (forward["applied"], forward["metadata"]["workflow_status"]) == (True, "inventory_reserved")
    assert (backwards["applied"], backwards["metadata"]["workflow_status"]) == (False, "inventory_reserved")
    assert (repeated["applied"], repeated["metadata"]["workflow_status"]) == (False, "inventory_reserved")
    metadata = driver.metadata(order.id)
    assert metadata["gift_note"] == "Happy birthday"
    assert metadata["workflow_status"] == "inventory_reserved"
    assert metadata["workflow_message"] == "test update inventory_reserved"
    assert metadata["last_updated"] == now.isoformat(), "a repeated status keeps the first report's time"
    assert metadata["workflow_instance"] == "2251799813699999"
