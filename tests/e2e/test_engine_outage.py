"""Engine down at webhook time: the function answers 503 with Retry-After, the subscriber retries, and the
order completes once the engine is back (it keeps its state in --data-dir across the restart)."""

from __future__ import annotations

import pytest

from devstack.stack import Stack

from .support import Driver, log_lines, order_placed_body, poll

pytestmark = pytest.mark.e2e


def test_webhook_during_engine_outage_is_retried_until_the_order_completes(
    stack: Stack, driver: Driver
) -> None:
    stack.stop_part("engine")
    try:
        order = driver.place_order()
        medusa_log = stack.group.get("medusa").log_path
        attempts = f"msg_order_placed_{order.id}: attempt"
        poll(
            lambda: any("HTTP 503" in line for line in log_lines(medusa_log, attempts)),
            30,
            lambda: f"the subscriber's webhook for {order.id} to be answered 503",
        )
        direct = driver.post_webhook(*driver.signed_webhook(order_placed_body(order.id)))
        assert direct.status_code == 503, direct.text
        assert int(direct.headers["retry-after"]) > 0
        assert "workflow_status" not in driver.metadata(order.id)
    finally:
        stack.start_engine()

    metadata = driver.wait_for_status(order.id, timeout=90)

    assert metadata["workflow_status"] == "completed", metadata
    assert log_lines(medusa_log, f"msg_order_placed_{order.id}: delivered")
    assert len(driver.instances(order.id)) == 1
