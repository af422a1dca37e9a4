"""An order placed through the Store API is carried by the workflow to `completed`."""

from __future__ import annotations

import pytest

from .support import WORKFLOW_KEYS, Driver, poll

pytestmark = pytest.mark.e2e


def test_order_placed_in_the_store_ends_completed_with_the_engines_instance(driver: Driver) -> None:
    order = driver.place_order()

    metadata = driver.wait_for_status(order.id)

    assert metadata["workflow_status"] == "completed"
    assert all(metadata.get(key) for key in WORKFLOW_KEYS), metadata
    instances = driver.instances(order.id)
    assert len(instances) == 1, instances
    key = instances[0]["key"]
    # The worker reports `completed` before it completes the last job, so the engine may lag a moment.
    poll(
        lambda: driver.engine.instance(key)["state"] == "COMPLETED",
        10,
        lambda: f"instance {key} to complete: {driver.engine.instance(key)}",
    )
    instance = driver.engine.instance(key)
    assert instance["correlation_key"] == order.id
    assert str(metadata["workflow_instance"]) == str(instance["key"])
