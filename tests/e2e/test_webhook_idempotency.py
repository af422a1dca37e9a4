"""Redelivering the same signed webhook, concurrently or after the end, never starts a second instance."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest

from .support import Driver, GuardedWebhook, order_placed_body

pytestmark = pytest.mark.e2e

CONCURRENT_DELIVERIES = 5


def _deliver_concurrently(driver: Driver, body: bytes, headers: dict[str, str]) -> list[httpx.Response]:
    barrier = Barrier(CONCURRENT_DELIVERIES)

    def deliver(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            return client.post(driver.stack.order_webhook_url, content=body, headers=headers)

    with ThreadPoolExecutor(CONCURRENT_DELIVERIES) as pool:
        return list(pool.map(deliver, range(CONCURRENT_DELIVERIES)))


def test_same_webhook_five_times_at_once_and_after_completion_starts_one_instance(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    # The subscriber's own delivery is refused here, so these five are the only ones.
    order = guarded_webhook.place_order(driver)
    body = order_placed_body(order.id)
    headers = guarded_webhook.headers(body, msg_id=f"msg_order_placed_{order.id}")

    responses = _deliver_concurrently(driver, body, headers)

    assert [r.status_code for r in responses] == [202] * CONCURRENT_DELIVERIES, [r.text for r in responses]
    assert all(r.json()["order_id"] == order.id for r in responses)
    assert sorted(r.json()["status"] for r in responses) == ["duplicate"] * 4 + ["started"]
    assert driver.wait_for_status(order.id)["workflow_status"] == "completed"

    late = driver.post_webhook(body, guarded_webhook.headers(body, msg_id=f"msg_order_placed_{order.id}"))

    assert late.status_code == 202, late.text
    assert late.json() == {"order_id": order.id, "status": "duplicate"}
    assert len(driver.instances(order.id)) == 1
