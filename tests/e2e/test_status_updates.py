"""The status function never moves an order backwards and keeps the keys other writers set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .support import Driver, status_update

pytestmark = pytest.mark.e2e


def test_late_updates_leave_a_completed_order_and_others_keys_alone(driver: Driver) -> None:
    order = driver.place_order()
    completed = driver.wait_for_status(order.id, {"completed"})
    driver.admin.post(f"/admin/orders/{order.id}", {"metadata": {"gift_note": "Happy birthday"}})
    instance = str(completed["workflow_instance"])
    now = datetime.now(UTC)

    late_retry = driver.apply_status(status_update(order.id, "awaiting_payment", now, instance))
    stale_failure = driver.apply_status(
        status_update(order.id, "payment_failed", now - timedelta(hours=1), instance)
    )

    for answer in (late_retry, stale_failure):
        assert (answer["applied"], answer["metadata"]["workflow_status"]) == (False, "completed")
    metadata = driver.metadata(order.id)
    assert metadata["gift_note"] == "Happy birthday"
    for key in ("workflow_status", "workflow_message", "last_updated", "workflow_instance"):
        assert metadata[key] == completed[key]
