from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from fulfillment.medusa import (
    ORDER_FIELDS,
    MedusaAuthError,
    MedusaClient,
    MedusaRejected,
    MedusaUnavailable,
    OrderNotFound,
    WorkflowWrite,
)

from .helpers import API_KEY, MEDUSA_URL, ORDER_ID, order_json

STATUS_PATH = f"/admin/fulfillment-workflow/orders/{ORDER_ID}/status"
WORKFLOW_KEYS = {"workflow_status": "started", "workflow_instance": "1"}


@pytest.fixture
def client() -> Iterator[MedusaClient]:
    with MedusaClient(MEDUSA_URL + "/", API_KEY, timeout_seconds=1, max_attempts=3, backoff_seconds=0) as c:
        yield c


@pytest.fixture
def medusa() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=MEDUSA_URL, assert_all_called=False) as router:
        yield router


def test_get_order_sends_basic_auth_and_fields(client: MedusaClient, medusa: respx.MockRouter) -> None:
    route = medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order_json()})
    order = client.get_order(ORDER_ID)
    assert order.email == "buyer@example.com"
    request = route.calls.last.request
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert request.url.params["fields"] == ORDER_FIELDS


def test_workflow_status_write_sends_keys_and_replaces(
    client: MedusaClient, medusa: respx.MockRouter
) -> None:
    route = medusa.post(STATUS_PATH).respond(
        json={"applied": True, "reason": None, "metadata": WORKFLOW_KEYS}
    )

    written = client.write_workflow_status(ORDER_ID, WORKFLOW_KEYS, [None, "started"])

    assert written == WorkflowWrite(applied=True, reason=None, metadata=WORKFLOW_KEYS)
    assert json.loads(route.calls.last.request.content) == {
        "metadata": WORKFLOW_KEYS,
        "replaces": [None, "started"],
    }
    assert route.calls.last.request.headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize("reason", ["stale", "order_canceled"])
def test_workflow_status_write_not_applied_carries_the_reason(
    client: MedusaClient, medusa: respx.MockRouter, reason: str
) -> None:
    stored = {"workflow_status": "completed"}
    medusa.post(STATUS_PATH).respond(json={"applied": False, "reason": reason, "metadata": stored})

    written = client.write_workflow_status(ORDER_ID, WORKFLOW_KEYS, [None])

    assert (written.applied, written.reason, written.metadata) == (False, reason, stored)


@pytest.mark.parametrize(
    "answer", [{"applied": "maybe"}, {}, {"applied": True, "metadata": "buyer@example.com"}]
)
def test_unexpected_route_answer_is_medusa_unavailable_without_quoting_it(
    client: MedusaClient, medusa: respx.MockRouter, answer: dict[str, object]
) -> None:
    medusa.post(STATUS_PATH).respond(json=answer)
    with pytest.raises(MedusaUnavailable, match="unexpected answer from the status route") as raised:
        client.write_workflow_status(ORDER_ID, WORKFLOW_KEYS, [None])
    assert "buyer@example.com" not in str(raised.value)


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
    route = medusa.post(STATUS_PATH).respond(status, json=body)
    with pytest.raises(error) as raised:
        client.write_workflow_status(ORDER_ID, WORKFLOW_KEYS, [None])
    assert route.call_count == 1
    assert type(raised.value) is error


def test_missing_status_route_is_unavailable_not_a_missing_order(
    client: MedusaClient, medusa: respx.MockRouter
) -> None:
    medusa.post(STATUS_PATH).respond(404, text="Cannot POST " + STATUS_PATH)
    with pytest.raises(MedusaUnavailable, match="medusa-plugin-fulfillment-workflow installed"):
        client.write_workflow_status(ORDER_ID, WORKFLOW_KEYS, [None])


def test_rejection_keeps_medusas_message(client: MedusaClient, medusa: respx.MockRouter) -> None:
    medusa.post(STATUS_PATH).respond(400, json={"message": "Invalid request: replaces"})
    with pytest.raises(MedusaRejected, match="Invalid request"):
        client.write_workflow_status(ORDER_ID, WORKFLOW_KEYS, [None])


def test_workflow_status_write_is_retried_on_5xx(client: MedusaClient, medusa: respx.MockRouter) -> None:
    route = medusa.post(STATUS_PATH)
    route.side_effect = [
        httpx.Response(503),
        httpx.Response(200, json={"applied": True, "reason": None, "metadata": WORKFLOW_KEYS}),
    ]
    assert client.write_workflow_status(ORDER_ID, WORKFLOW_KEYS, [None]).applied
    assert route.call_count == 2


def test_5xx_is_retried_then_succeeds(client: MedusaClient, medusa: respx.MockRouter) -> None:
    route = medusa.get(f"/admin/orders/{ORDER_ID}")
    route.side_effect = [
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(200, json={"order": order_json()}),
    ]
    assert client.get_order(ORDER_ID).id == ORDER_ID
    assert route.call_count == 3


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(500), httpx.Response(429)],
)
def test_persistent_failure_is_unavailable_after_bounded_attempts(
    client: MedusaClient, medusa: respx.MockRouter, failure: httpx.Response | Exception
) -> None:
    route = medusa.get(f"/admin/orders/{ORDER_ID}")
    route.side_effect = [failure] * 5
    with pytest.raises(MedusaUnavailable):
        client.get_order(ORDER_ID)
    assert route.call_count == 3


def test_closed_port_is_unavailable() -> None:
    # A real connection to a port nothing listens on (no mock): the error a stopped Medusa gives.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = MedusaClient(f"http://127.0.0.1:{port}", API_KEY, max_attempts=2, backoff_seconds=0)
    with client, pytest.raises(MedusaUnavailable, match="ConnectError"):
        client.get_order(ORDER_ID)


@pytest.mark.parametrize("bad", ["order_01/../../admin/users", "cart_01", ""])
def test_ids_that_are_not_order_ids_never_reach_medusa(
    client: MedusaClient, medusa: respx.MockRouter, bad: str
) -> None:
    with pytest.raises(ValueError, match="not a Medusa order id"):
        client.get_order(bad)
    assert not medusa.calls


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (200, {"text": "<html>proxy for buyer@example.com</html>"}),
        (200, {"json": ["buyer@example.com"]}),
        (200, {"json": {"orders": [], "email": "buyer@example.com"}}),
        (200, {"json": {"order": "buyer@example.com"}}),
        (200, {"json": {"order": {"id": "not an order id", "email": "buyer@example.com"}}}),
        (408, {"json": {"message": "timeout for buyer@example.com"}}),
        (409, {"json": {"message": "conflict for buyer@example.com"}}),
        (422, {"text": "<html>buyer@example.com</html>"}),
    ],
)
def test_an_unexpected_answer_is_unavailable_naming_the_status_not_the_body(
    client: MedusaClient, medusa: respx.MockRouter, status: int, answer: dict[str, Any]
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(status, **answer)
    with pytest.raises(MedusaUnavailable) as raised:
        client.get_order(ORDER_ID)
    assert raised.value.status_code == status
    assert f"Medusa answered {status}" in str(raised.value) or "unexpected shape" in str(raised.value)
    assert "buyer@example.com" not in str(raised.value)
    assert raised.value.__cause__ is None
    # A traceback of this error never shows what it was raised from.
    assert raised.value.__context__ is None or raised.value.__suppress_context__


def test_list_reservations_pages_through_all(client: MedusaClient, medusa: respx.MockRouter) -> None:
    first = [{"id": f"res_{i}", "line_item_id": "ordli_1", "quantity": 1} for i in range(100)]
    second = [{"id": "res_last", "line_item_id": "ordli_2", "quantity": 1}]
    route = medusa.get("/admin/reservations")
    route.side_effect = [
        httpx.Response(200, json={"reservations": first, "count": 101, "offset": 0, "limit": 100}),
        httpx.Response(200, json={"reservations": second, "count": 101, "offset": 100, "limit": 100}),
    ]
    reservations = client.list_reservations(["ordli_1", "ordli_2"])
    assert len(reservations) == 101
    params = route.calls[1].request.url.params
    assert params.get_list("line_item_id") == ["ordli_1", "ordli_2"]
    assert params["offset"] == "100"


def test_list_reservations_without_items_makes_no_call(
    client: MedusaClient, medusa: respx.MockRouter
) -> None:
    assert client.list_reservations([]) == []
    assert not medusa.calls
