"""The status_update entry point with real Flask requests and a respx-mocked Medusa that merges metadata."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import pytest
import respx

from fulfillment.medusa import MedusaClient

from .helpers import API_KEY, MEDUSA_URL, ORDER_ID, call_function, load_function, new_webhook_secret, signed


class FakeStatusRoute:
    """The plugin's status route for one order: compare the stored status with `replaces`, then merge."""

    def __init__(self) -> None:
        self.metadata: dict[str, Any] = {"gift_note": "from grandma"}
        self.canceled = False
        self.requests: list[dict[str, Any]] = []

    def post(self, request: httpx.Request, order_id: str) -> httpx.Response:
        if order_id != ORDER_ID:
            return httpx.Response(
                404, json={"type": "not_found", "message": f"Order id not found: {order_id}"}
            )
        sent = json.loads(request.content)
        self.requests.append(sent)
        reason = None
        if self.canceled:
            reason = "order_canceled"
        elif self.metadata.get("workflow_status") not in sent["replaces"]:
            reason = "stale"
        else:
            self.metadata.update(sent["metadata"])
        workflow = {
            k: v for k, v in self.metadata.items() if k.startswith("workflow_") or k == "last_updated"
        }
        return httpx.Response(200, json={"applied": reason is None, "reason": reason, "metadata": workflow})


@pytest.fixture
def orders() -> Iterator[FakeStatusRoute]:
    fake = FakeStatusRoute()
    with respx.mock(base_url=MEDUSA_URL) as router:
        router.post(path__regex=r"^/admin/fulfillment-workflow/orders/(?P<order_id>[^/]+)/status$").mock(
            side_effect=fake.post
        )
        yield fake


@pytest.fixture
def function(clean_env: pytest.MonkeyPatch, webhook_secret: str) -> Iterator[types.ModuleType]:
    clean_env.setenv("MEDUSA_BACKEND_URL", MEDUSA_URL)
    clean_env.setenv("MEDUSA_API_KEY", API_KEY)
    clean_env.setenv("STATUS_UPDATE_SECRET", f"{webhook_secret} {new_webhook_secret()}")
    module = load_function("status_update")
    client = MedusaClient(MEDUSA_URL, API_KEY, max_attempts=2, backoff_seconds=0)
    clean_env.setattr(module, "MEDUSA", client)
    yield module
    client.close()


def report(status: str, occurred_at: str | None = None, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "order_id": ORDER_ID,
        "process_instance_key": 2251799813685249,
        "status": status,
        "message": f"now {status}",
        **extra,
    }
    if occurred_at:
        body["occurred_at"] = occurred_at
    return body


def send(function: types.ModuleType, secret: str, payload: object) -> tuple[int, dict[str, Any]]:
    body, headers = signed(secret, payload)
    response: flask.Response = call_function(function.status_update, body, headers=headers)
    assert response.mimetype == "application/json"
    return response.status_code, json.loads(response.get_data())


def test_first_status_is_written_next_to_other_keys(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    result = send(function, webhook_secret, report("started", "2026-11-28T08:00:00Z", step="verify-payment"))
    assert result == (200, {"order_id": ORDER_ID, "applied": True, "workflow_status": "started"})
    assert orders.requests == [
        {
            "metadata": {
                "workflow_instance": "2251799813685249",
                "workflow_status": "started",
                "workflow_message": "now started",
                "last_updated": "2026-11-28T08:00:00+00:00",
                "workflow_step": "verify-payment",
            },
            "replaces": [None],
        }
    ]
    assert orders.metadata["gift_note"] == "from grandma"


def test_backward_update_is_not_applied_and_reports_stored_status(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    send(function, webhook_secret, report("inventory_reserved", "2026-11-28T08:00:02Z"))
    result = send(function, webhook_secret, report("payment_verified", "2026-11-28T08:00:03Z"))
    assert result == (
        200,
        {"order_id": ORDER_ID, "applied": False, "workflow_status": "inventory_reserved", "reason": "stale"},
    )
    assert len(orders.requests) == 2, "one Medusa call per status"
    assert orders.requests[1]["replaces"] == [None, "started"]


def test_terminal_status_is_final(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    send(function, webhook_secret, report("payment_failed"))
    status, body = send(function, webhook_secret, report("completed"))
    assert (status, body["applied"], body["workflow_status"]) == (200, False, "payment_failed")
    assert orders.metadata["workflow_status"] == "payment_failed"


def test_canceled_order_is_not_applied_and_not_an_error(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    send(function, webhook_secret, report("started"))
    orders.canceled = True
    status, body = send(function, webhook_secret, report("payment_verified"))
    assert (status, body["applied"], body["reason"], body["workflow_status"]) == (
        200,
        False,
        "order_canceled",
        "started",
    )


def test_unknown_order_is_404(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    status, body = send(function, webhook_secret, {**report("started"), "order_id": "order_UNKNOWN"})
    assert (status, body["error"]) == (404, "order_not_found")


@pytest.mark.parametrize(
    "payload",
    [
        report("shipped"),
        {**report("started"), "order_id": "cart_01"},
        {**report("started"), "process_instance_key": "12ab"},
        {k: v for k, v in report("started").items() if k != "message"},
        {**report("started"), "occurred_at": "yesterday"},
        # Valid ISO 8601 that has no UTC equivalent inside the representable years.
        {**report("started"), "occurred_at": "9999-12-31T23:59:59-23:59"},
        {**report("started"), "occurred_at": "0001-01-01T00:00:00+23:59"},
        ["started"],
    ],
)
def test_invalid_report_is_400(function: types.ModuleType, webhook_secret: str, payload: object) -> None:
    assert send(function, webhook_secret, payload)[0] == 400


def test_second_secret_is_accepted_and_foreign_one_refused(
    function: types.ModuleType, orders: FakeStatusRoute
) -> None:
    rotated_in = function.SETTINGS.status_update_secrets[1]
    assert send(function, rotated_in, report("started"))[0] == 200
    assert send(function, new_webhook_secret(), report("started"))[0] == 401


@pytest.mark.parametrize(
    "medusa_answer",
    [
        {"side_effect": httpx.ConnectError("refused")},
        {"return_value": httpx.Response(200, text="<html>proxy</html>")},
        {"return_value": httpx.Response(200, json={"order": None})},
        {"return_value": httpx.Response(409, json={"message": "conflict"})},
        {"return_value": httpx.Response(422, json={"message": "unprocessable"})},
    ],
    ids=["down", "html", "no-order", "409", "422"],
)
def test_medusa_down_or_answering_unexpectedly_is_503_with_retry_after(
    function: types.ModuleType, webhook_secret: str, medusa_answer: dict[str, Any]
) -> None:
    with respx.mock(base_url=MEDUSA_URL) as router:
        router.route(path__regex=r"^/admin/").mock(**medusa_answer)
        body, headers = signed(webhook_secret, report("started"))
        response = call_function(function.status_update, body, headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert json.loads(response.get_data())["error"] == "medusa_unavailable"


@pytest.mark.parametrize(
    ("method", "content_type", "expected"),
    [("GET", None, 405), ("PUT", "application/json", 405), ("POST", "text/plain", 415)],
)
def test_method_and_content_type(
    function: types.ModuleType, method: str, content_type: str | None, expected: int
) -> None:
    assert (
        call_function(function.status_update, b"{}", method=method, content_type=content_type).status_code
        == expected
    )


def test_large_body_is_413(function: types.ModuleType) -> None:
    assert call_function(function.status_update, b" " * (64 * 1024 + 1)).status_code == 413
