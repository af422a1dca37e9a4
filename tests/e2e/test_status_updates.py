"""The status function never moves an order backwards and keeps the keys other writers set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .support import Driver

pytestmark = pytest.mark.e2e


def test_stale_and_backward_updates_leave_a_completed_order_and_others_keys_alone(driver: Driver) -> None:
    order = driver.place_order()
    completed = driver.wait_for_status(order.id, {"completed"})
    driver.admin.post(f"/admin/orders/{order.id}", {"metadata": {"gift_note": "Happy birthday"}})
    instance_key = completed["workflow_instance"]
    backwards = {
        "order_id": order.id,
        "process_instance_key": instance_key,
        "status": "started",
        "message": "a late retry of the first status update",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    stale = {
        **backwards,
        "status": "payment_failed",
        "message": "an update that happened before the last one",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    }

    for update in (backwards, stale):
        response = driver.post_status(update)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["order_id"], answer["applied"], answer["workflow_status"]) == (
            order.id,
            False,
            "completed",
        )

    metadata = driver.metadata(order.id)
    assert metadata["gift_note"] == "Happy birthday"
    assert metadata["workflow_status"] == "completed"
    assert metadata["workflow_message"] == completed["workflow_message"]
    assert metadata["last_updated"] == completed["last_updated"]
