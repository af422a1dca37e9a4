"""The plugin's status route, called directly and signed as the status function calls it (docs/contracts.md).

Every order here is placed while the webhook refuses the subscriber (`guarded_webhook`), so no process
writes to it: the calls below are its only workflow writers.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from fulfillment.signatures import sign_headers

from .support import Driver, GuardedWebhook, log_lines, poll

pytestmark = pytest.mark.e2e

STARTED = {
    "workflow_status": "awaiting_payment",
    "workflow_instance": "2251799813699999",
    "workflow_message": "picked up",
    "last_updated": "2026-11-29T08:00:00+00:00",
}


def route(order_id: str) -> str:
    return f"/fulfillment-workflow/orders/{order_id}/status"


def write(driver: Driver, order_id: str, body: Any) -> httpx.Response:
    """A status write signed as the status function signs it; a dict body names its route and order."""
    if isinstance(body, dict):
        body = {"action": "status", "order_id": order_id, **body}
    assert driver.stack.secrets is not None
    raw = json.dumps(body).encode()
    headers = {**sign_headers(driver.stack.secrets.medusa_status, raw), "content-type": "application/json"}
    return driver.http.post(driver.stack.medusa_url + route(order_id), content=raw, headers=headers)


def test_first_write_applies_and_keeps_every_other_key(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    order = guarded_webhook.place_order(driver)
    driver.admin.post(
        f"/admin/orders/{order.id}", {"metadata": {"gift_note": "Happy birthday", "erp": {"id": 7}}}
    )

    answer = write(driver, order.id, {"metadata": STARTED, "replaces": [None]})

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"applied": True, "reason": None, "metadata": STARTED}
    assert driver.metadata(order.id) == {"gift_note": "Happy birthday", "erp": {"id": 7}, **STARTED}


def test_a_write_whose_expectation_fails_is_stale_and_changes_nothing(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    order = guarded_webhook.place_order(driver)
    write(driver, order.id, {"metadata": STARTED, "replaces": [None]})
    completed = {**STARTED, "workflow_status": "completed", "workflow_message": "done"}
    assert write(driver, order.id, {"metadata": completed, "replaces": ["awaiting_payment"]}).json()[
        "applied"
    ]

    late = write(
        driver,
        order.id,
        {
            "metadata": {**STARTED, "workflow_status": "payment_verified"},
            "replaces": [None, "awaiting_payment"],
        },
    )

    assert late.status_code == 200
    assert late.json() == {"applied": False, "reason": "stale", "metadata": completed}
    assert driver.metadata(order.id)["workflow_status"] == "completed"


def test_a_canceled_order_is_not_written(driver: Driver, guarded_webhook: GuardedWebhook) -> None:
    order = guarded_webhook.place_order(driver)
    write(driver, order.id, {"metadata": STARTED, "replaces": [None]})
    driver.admin.post(f"/admin/orders/{order.id}/cancel")

    answer = write(
        driver,
        order.id,
        {"metadata": {**STARTED, "workflow_status": "completed"}, "replaces": [None, "awaiting_payment"]},
    )

    assert answer.json() == {"applied": False, "reason": "order_canceled", "metadata": STARTED}


def test_a_status_write_wakes_no_order_updated_subscriber(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    order = guarded_webhook.place_order(driver)
    medusa_log = driver.stack.group.get("medusa").log_path
    received = f"order.updated received for {order.id}"

    assert write(driver, order.id, {"metadata": STARTED, "replaces": [None]}).json()["applied"]
    # The control: the Admin API's own metadata update does reach the demo shop's subscriber.
    driver.admin.post(f"/admin/orders/{order.id}", {"metadata": {"gift_note": "Happy birthday"}})
    poll(lambda: bool(log_lines(medusa_log, received)), 30, lambda: "the Admin API's order.updated")

    assert len(log_lines(medusa_log, received)) == 1, "the status route emitted order.updated"


def test_unknown_order_is_404(driver: Driver) -> None:
    answer = write(driver, "order_01UNKNOWNUNKNOWNUNKNOWN0", {"metadata": STARTED, "replaces": [None]})

    assert answer.status_code == 404
    assert "order_01UNKNOWNUNKNOWNUNKNOWN0" in answer.json()["message"]


MALFORMED: list[Any] = [
    {"metadata": STARTED},
    {"replaces": [None]},
    {"metadata": {**STARTED, "gift_note": "not a workflow key"}, "replaces": [None]},
    {"metadata": {"workflow_message": "no status"}, "replaces": [None]},
    {"metadata": {**STARTED, "workflow_status": {"nested": True}}, "replaces": [None]},
    {"metadata": STARTED, "replaces": "awaiting_payment"},
    {"metadata": STARTED, "replaces": [None], "extra": 1},
    ["awaiting_payment"],
]


def test_malformed_bodies_are_400_and_write_nothing(driver: Driver, guarded_webhook: GuardedWebhook) -> None:
    order = guarded_webhook.place_order(driver)

    for body in MALFORMED:
        answer = write(driver, order.id, body)
        assert answer.status_code == 400, f"{body}: {answer.status_code} {answer.text}"

    assert "workflow_status" not in driver.metadata(order.id)


def test_without_a_signature_is_401(driver: Driver) -> None:
    order_id = "order_01UNKNOWNUNKNOWNUNKNOWN0"
    answer = httpx.post(
        driver.stack.medusa_url + route(order_id),
        json={"action": "status", "order_id": order_id, "metadata": STARTED, "replaces": [None]},
        timeout=30,
    )

    assert answer.status_code == 401
