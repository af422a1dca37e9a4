"""The client of the plugin's signed routes: signed bodies naming route and order, typed answers, and the
retry and error taxonomy (respx for httpx)."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from fulfillment.errors import (
    InvalidSignature,
    MedusaAuthError,
    MedusaRejected,
    MedusaUnavailable,
    OrderNotFound,
)
from fulfillment.medusa import CancelOutcome, MedusaClient, StatusWriteAnswer
from fulfillment.signatures import verify
from fulfillment.workflow import MailData, MailTemplate, Notification

from .helpers import MEDUSA_URL, ORDER_ID, new_webhook_secret

ROUTES = f"/fulfillment-workflow/orders/{ORDER_ID}"
WORKFLOW_KEYS = {"workflow_status": "payment_verified", "workflow_instance": "1"}
VIEW = {
    "id": ORDER_ID,
    "display_id": 7,
    "status": "pending",
    "currency_code": "eur",
    "total": 42.5,
    "created_at": "2026-11-28T08:00:00.000Z",
    "payment_status": "authorized",
    "payment_collections": [
        {"id": "pay_col_1", "status": "authorized", "amount": 42.5, "authorized_amount": 42.5}
    ],
    "items": [
        {
            "id": "ordli_1",
            "title": "Mug",
            "variant_id": "variant_1",
            "variant_sku": "MUG",
            "quantity": 2,
            "detail": {"fulfilled_quantity": 0},
            "variant": {
                "manage_inventory": True,
                "inventory_items": [{"inventory_item_id": "iitem_1", "required_quantity": 1}],
            },
        }
    ],
    "reservations": [
        {
            "id": "res_1",
            "line_item_id": "ordli_1",
            "inventory_item_id": "iitem_1",
            "location_id": "sloc_1",
            "quantity": 2,
        }
    ],
    "workflow": WORKFLOW_KEYS,
}
STATUS_ANSWER = {"applied": True, "reason": None, "metadata": WORKFLOW_KEYS}


@pytest.fixture
def secret() -> str:
    return new_webhook_secret()


@pytest.fixture
def client(secret: str) -> Iterator[MedusaClient]:
    with MedusaClient(MEDUSA_URL + "/", secret, timeout_seconds=1, max_attempts=3, backoff_seconds=0) as c:
        yield c


@pytest.fixture
def medusa() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=MEDUSA_URL, assert_all_called=False) as router:
        yield router


def sent(route: respx.Route, secret: str) -> dict[str, Any]:
    """The body of the route's last request, after checking its signature with `secret`."""
    request = route.calls.last.request
    verify([secret], dict(request.headers), request.content)
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers, "no Medusa API key travels"
    body: dict[str, Any] = json.loads(request.content)
    return body


def test_view_is_a_signed_post_naming_route_and_order(
    client: MedusaClient, medusa: respx.MockRouter, secret: str
) -> None:
    route = medusa.post(f"{ROUTES}/view").respond(json={"order": VIEW})

    order = client.view_order(ORDER_ID)

    assert sent(route, secret) == {"action": "view", "order_id": ORDER_ID}
    assert order.total == Decimal("42.5")
    assert order.items[0].variant is not None
    assert order.items[0].variant.inventory_items[0].inventory_item_id == "iitem_1"
    assert order.reservations[0].quantity == Decimal(2)
    assert order.workflow == WORKFLOW_KEYS


def test_a_view_with_the_nulls_the_plugin_passes_on_is_read(
    client: MedusaClient, medusa: respx.MockRouter
) -> None:
    # The plugin answers null for texts Medusa left empty (a custom item's title, a collection's status).
    items = [{**VIEW["items"][0], "title": None, "variant_sku": None, "variant": None}]  # type: ignore[index]
    collections = [{"id": "pay_col_1", "status": None, "amount": 0, "authorized_amount": 0}]
    view = {**VIEW, "currency_code": None, "items": items, "payment_collections": collections, "workflow": {}}
    medusa.post(f"{ROUTES}/view").respond(json={"order": view})

    order = client.view_order(ORDER_ID)

    assert (order.currency_code, order.items[0].title, order.payment_collections[0].status) == ("", "", "")
    assert order.items[0].variant is None


def test_a_signature_by_another_secret_does_not_verify(
    client: MedusaClient, medusa: respx.MockRouter
) -> None:
    route = medusa.post(f"{ROUTES}/view").respond(json={"order": VIEW})
    client.view_order(ORDER_ID)

    with pytest.raises(InvalidSignature):
        sent(route, new_webhook_secret())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"outcome": "canceled", "reason": None, "captured_amount": 42.5, "refunded_amount": 42.5},
            CancelOutcome(
                outcome="canceled", captured_amount=Decimal("42.5"), refunded_amount=Decimal("42.5")
            ),
        ),
        (
            {"outcome": "already_canceled", "reason": None, "captured_amount": 0, "refunded_amount": 0},
            CancelOutcome(outcome="already_canceled"),
        ),
        (
            {
                "outcome": "refused",
                "reason": "a fulfillment exists",
                "captured_amount": 0,
                "refunded_amount": 0,
            },
            CancelOutcome(outcome="refused", reason="a fulfillment exists"),
        ),
    ],
)
def test_cancel_answers_its_outcome(
    client: MedusaClient,
    medusa: respx.MockRouter,
    secret: str,
    answer: dict[str, Any],
    expected: CancelOutcome,
) -> None:
    route = medusa.post(f"{ROUTES}/cancel").respond(json=answer)

    assert client.cancel_order(ORDER_ID) == expected
    assert sent(route, secret) == {"action": "cancel", "order_id": ORDER_ID}


def test_status_write_sends_keys_and_replaces(
    client: MedusaClient, medusa: respx.MockRouter, secret: str
) -> None:
    route = medusa.post(f"{ROUTES}/status").respond(json=STATUS_ANSWER)

    written = client.write_status(ORDER_ID, WORKFLOW_KEYS, [None, "awaiting_payment"])

    assert written == StatusWriteAnswer(applied=True, reason=None, metadata=WORKFLOW_KEYS)
    assert sent(route, secret) == {
        "action": "status",
        "order_id": ORDER_ID,
        "metadata": WORKFLOW_KEYS,
        "replaces": [None, "awaiting_payment"],
    }


def test_status_write_carries_the_mail_and_answers_what_became_of_it(
    client: MedusaClient, medusa: respx.MockRouter, secret: str
) -> None:
    answer = {**STATUS_ANSWER, "notification": {"sent": False, "reason": "duplicate"}}
    route = medusa.post(f"{ROUTES}/status").respond(json=answer)
    mail = Notification(template=MailTemplate.ORDER_CANCELED_STOCK, data=MailData(reason="Out of stock."))

    written = client.write_status(ORDER_ID, WORKFLOW_KEYS, [None], mail)

    assert sent(route, secret)["notification"] == {
        "template": "order-canceled-stock",
        "data": {"reason": "Out of stock."},
    }
    assert written.notification is not None
    assert (written.notification.sent, written.notification.reason) == (False, "duplicate")


@pytest.mark.parametrize("reason", ["stale", "order_canceled"])
def test_status_write_not_applied_carries_the_reason(
    client: MedusaClient, medusa: respx.MockRouter, reason: str
) -> None:
    stored = {"workflow_status": "completed"}
    medusa.post(f"{ROUTES}/status").respond(json={"applied": False, "reason": reason, "metadata": stored})

    written = client.write_status(ORDER_ID, WORKFLOW_KEYS, [None])

    assert (written.applied, written.reason, written.metadata) == (False, reason, stored)


@pytest.mark.parametrize(
    ("action", "answer"),
    [
        ("status", {"applied": "maybe"}),
        ("status", {}),
        ("status", {"applied": True, "reason": None, "metadata": "note for buyer@example.com"}),
        ("cancel", {"outcome": "maybe", "reason": "buyer@example.com"}),
        ("view", {"order": {**VIEW, "payment_collections": "buyer@example.com"}}),
        ("view", {"order": {**VIEW, "items": [{"id": "ordli_1", "title": "buyer@example.com"}]}}),
        ("view", {"orders": [VIEW]}),
    ],
)
def test_an_answer_of_an_unexpected_shape_is_unavailable_without_quoting_it(
    client: MedusaClient, medusa: respx.MockRouter, action: str, answer: dict[str, Any]
) -> None:
    medusa.post(f"{ROUTES}/{action}").respond(json=answer)
    calls: dict[str, Callable[[], object]] = {
        "view": lambda: client.view_order(ORDER_ID),
        "cancel": lambda: client.cancel_order(ORDER_ID),
        "status": lambda: client.write_status(ORDER_ID, WORKFLOW_KEYS, [None]),
    }

    with pytest.raises(
        MedusaUnavailable, match=f"unexpected answer \\(200\\) from the {action} route"
    ) as raised:
        calls[action]()

    assert "buyer@example.com" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"message": "Unauthorized"}, MedusaAuthError),
        (403, {"message": "Forbidden"}, MedusaAuthError),
        (404, {"type": "not_found", "message": f"Order id not found: {ORDER_ID}"}, OrderNotFound),
        (400, {"type": "invalid_data", "message": "Invalid request: replaces"}, MedusaRejected),
    ],
)
def test_client_errors_are_typed_and_not_retried(
    client: MedusaClient, medusa: respx.MockRouter, status: int, body: dict[str, str], error: type[Exception]
) -> None:
    route = medusa.post(f"{ROUTES}/status").respond(status, json=body)
    with pytest.raises(error) as raised:
        client.write_status(ORDER_ID, WORKFLOW_KEYS, [None])
    assert route.call_count == 1
    assert type(raised.value) is error


def test_a_medusa_without_the_plugins_routes_is_unavailable_not_a_missing_order(
    client: MedusaClient, medusa: respx.MockRouter
) -> None:
    # Express's own page for an unknown route.
    medusa.post(f"{ROUTES}/view").respond(404, text=f"<pre>Cannot POST {ROUTES}/view</pre>")
    with pytest.raises(MedusaUnavailable, match="medusa-plugin-fulfillment-workflow installed") as raised:
        client.view_order(ORDER_ID)
    assert raised.value.status_code == 404


def test_rejection_keeps_the_plugins_message(client: MedusaClient, medusa: respx.MockRouter) -> None:
    medusa.post(f"{ROUTES}/status").respond(400, json={"message": "Invalid request: replaces"})
    with pytest.raises(MedusaRejected, match="Invalid request"):
        client.write_status(ORDER_ID, WORKFLOW_KEYS, [None])


def test_a_retry_is_signed_again_under_the_same_message_id(
    client: MedusaClient, medusa: respx.MockRouter, secret: str
) -> None:
    route = medusa.post(f"{ROUTES}/cancel")
    route.side_effect = [
        httpx.Response(503),
        httpx.Response(200, json={"outcome": "canceled", "captured_amount": 0, "refunded_amount": 0}),
    ]

    assert client.cancel_order(ORDER_ID).outcome == "canceled"

    first, second = (call.request for call in route.calls)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    for request in (first, second):
        verify([secret], dict(request.headers), request.content)


def test_5xx_is_retried_then_succeeds(client: MedusaClient, medusa: respx.MockRouter) -> None:
    route = medusa.post(f"{ROUTES}/view")
    route.side_effect = [
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(200, json={"order": VIEW}),
    ]
    assert client.view_order(ORDER_ID).id == ORDER_ID
    assert route.call_count == 3


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(500), httpx.Response(429)],
)
def test_persistent_failure_is_unavailable_after_bounded_attempts(
    client: MedusaClient, medusa: respx.MockRouter, failure: httpx.Response | Exception
) -> None:
    route = medusa.post(f"{ROUTES}/view")
    route.side_effect = [failure] * 5
    with pytest.raises(MedusaUnavailable):
        client.view_order(ORDER_ID)
    assert route.call_count == 3


def test_closed_port_is_unavailable(secret: str) -> None:
    # A real connection to a port nothing listens on (no mock): the error a stopped Medusa gives.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = MedusaClient(f"http://127.0.0.1:{port}", secret, max_attempts=2, backoff_seconds=0)
    with client, pytest.raises(MedusaUnavailable, match="ConnectError"):
        client.view_order(ORDER_ID)


@pytest.mark.parametrize("bad", ["order_01/../../admin/users", "cart_01", ""])
def test_ids_that_are_not_order_ids_never_reach_medusa(
    client: MedusaClient, medusa: respx.MockRouter, bad: str
) -> None:
    with pytest.raises(ValueError, match="not a Medusa order id"):
        client.view_order(bad)
    assert not medusa.calls


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (200, {"text": "<html>proxy for buyer@example.com</html>"}),
        (200, {"json": ["buyer@example.com"]}),
        (408, {"json": {"message": "timeout for buyer@example.com"}}),
        (409, {"json": {"message": "conflict for buyer@example.com"}}),
        (422, {"text": "<html>buyer@example.com</html>"}),
    ],
)
def test_an_unexpected_answer_is_unavailable_naming_the_status_not_the_body(
    client: MedusaClient, medusa: respx.MockRouter, status: int, answer: dict[str, Any]
) -> None:
    medusa.post(f"{ROUTES}/view").respond(status, **answer)
    with pytest.raises(MedusaUnavailable) as raised:
        client.view_order(ORDER_ID)
    assert raised.value.status_code == status
    assert "buyer@example.com" not in str(raised.value)
    assert raised.value.__cause__ is None


@pytest.mark.parametrize(
    ("base_url", "verify_mode"),
    [("https://shop.example.com", ssl.CERT_REQUIRED), ("http://127.0.0.1:9000", ssl.CERT_NONE)],
)
def test_certificates_are_verified_on_https_and_no_ca_bundle_is_loaded_for_plain_http(
    base_url: str, verify_mode: ssl.VerifyMode
) -> None:
    with MedusaClient(base_url, new_webhook_secret()) as client:
        # httpx keeps the TLS context in its transport's connection pool (httpx 0.28).
        context: ssl.SSLContext = client._http._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert context.verify_mode == verify_mode
