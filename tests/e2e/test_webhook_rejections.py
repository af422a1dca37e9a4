"""Every malformed or untrusted delivery gets its documented answer and starts nothing.

The order used here is real, so "starts nothing" means something: while these tests run, the webhook
function only trusts a secret the subscriber does not have (the `guarded_webhook` fixture), so only our
deliveries could start the process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devstack.shop import PlacedOrder
from devstack.stack import Stack

from .support import Driver, GuardedWebhook, order_placed_body

pytestmark = pytest.mark.e2e

MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def guarded_order(guarded_webhook: GuardedWebhook, stack: Stack) -> Iterator[PlacedOrder]:
    driver = Driver(stack)
    try:
        yield guarded_webhook.place_order(driver)
    finally:
        driver.close()


def _cases(
    guarded: GuardedWebhook, order_id: str
) -> dict[str, tuple[bytes, dict[str, str], int, str | None]]:
    _signed = guarded.headers
    body = order_placed_body(order_id)
    forged = {**_signed(body), "webhook-signature": _signed(b"{}")["webhook-signature"]}
    expired = _signed(body, timestamp=datetime.now(UTC) - timedelta(minutes=10))
    invalid_json = b'{"type": "order.placed", "data": {"id": '
    wrong_type = order_placed_body(order_id, event_type="order.updated")
    padding = "x" * (MAX_BODY + 1)
    oversize = json.dumps({"type": "order.placed", "data": {"id": order_id}, "padding": padding}).encode()
    return {
        "forged signature": (body, forged, 401, None),
        "expired timestamp": (body, expired, 401, None),
        "missing headers": (body, {"content-type": "application/json"}, 401, None),
        "invalid JSON": (invalid_json, _signed(invalid_json), 400, None),
        "wrong event type": (wrong_type, _signed(wrong_type), 202, "ignored"),
        "oversize body": (oversize, _signed(oversize), 413, None),
    }


@pytest.mark.parametrize(
    "case",
    [
        "forged signature",
        "expired timestamp",
        "missing headers",
        "invalid JSON",
        "wrong event type",
        "oversize body",
    ],
)
def test_untrusted_or_malformed_delivery_is_answered_and_starts_nothing(
    driver: Driver, guarded_webhook: GuardedWebhook, guarded_order: PlacedOrder, case: str
) -> None:
    body, headers, expected_status, expected_outcome = _cases(guarded_webhook, guarded_order.id)[case]

    response = driver.post_webhook(body, headers)

    assert response.status_code == expected_status, response.text
    answer = response.json()
    if expected_outcome is None:
        assert set(answer) >= {"error", "message"}, answer
    else:
        assert answer["status"] == expected_outcome
    assert driver.instances(guarded_order.id) == []


def test_the_guarded_order_still_starts_once_a_valid_delivery_arrives(
    driver: Driver, guarded_webhook: GuardedWebhook, guarded_order: PlacedOrder
) -> None:
    """Proves the rejections above were about the delivery, not about the order."""
    body = order_placed_body(guarded_order.id)

    response = driver.post_webhook(body, guarded_webhook.headers(body))

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "started"
    assert driver.wait_for_status(guarded_order.id)["workflow_status"] == "completed"
