"""The status_update entry point with real Flask requests and a respx-mocked Medusa that merges metadata."""

from __future__ import annotations

import json
import threading
import time
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flask
import httpx
import pytest
import respx

from fulfillment.medusa import MedusaClient
from fulfillment.workflow import WorkflowStatus

from .helpers import API_KEY, MEDUSA_URL, ORDER_ID, call_function, load_function, new_webhook_secret, signed


class FakeMedusaOrders:
    """Metadata of one order with Medusa's merge rules (top-level merge, "" deletes, canceled refuses)."""

    def __init__(self) -> None:
        self.metadata: dict[str, Any] = {"gift_note": "from grandma"}
        self.canceled = False
        self.posted: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def get(self, request: httpx.Request, order_id: str) -> httpx.Response:
        if order_id != ORDER_ID:
            return httpx.Response(
                404, json={"type": "not_found", "message": f"Order id not found: {order_id}"}
            )
        with self.lock:
            snapshot = dict(self.metadata)
        time.sleep(0.002)  # the read-then-write window in which concurrent writers would interleave
        return httpx.Response(200, json={"order": {"id": order_id, "metadata": snapshot}})

    def post(self, request: httpx.Request, order_id: str) -> httpx.Response:
        sent = json.loads(request.content)["metadata"]
        with self.lock:
            self.posted.append(sent)
            if self.canceled:
                return httpx.Response(400, json={"message": f"Order with id {order_id} has been canceled."})
            for key, value in sent.items():
                if value == "":
                    self.metadata.pop(key, None)
                else:
                    self.metadata[key] = value
            return httpx.Response(200, json={"order": {"id": order_id, "metadata": dict(self.metadata)}})


@pytest.fixture
def orders() -> Iterator[FakeMedusaOrders]:
    fake = FakeMedusaOrders()
    with respx.mock(base_url=MEDUSA_URL, assert_all_called=False) as router:
        router.get(path__regex=r"^/admin/orders/(?P<order_id>[^/]+)$").mock(side_effect=fake.get)
        router.post(path__regex=r"^/admin/orders/(?P<order_id>[^/]+)$").mock(side_effect=fake.post)
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
    function: types.ModuleType, orders: FakeMedusaOrders, webhook_secret: str
) -> None:
    result = send(function, webhook_secret, report("started", "2026-11-28T08:00:00Z", step="verify-payment"))
    assert result == (200, {"order_id": ORDER_ID, "applied": True, "workflow_status": "started"})
    assert orders.posted == [
        {
            "workflow_instance": "2251799813685249",
            "workflow_status": "started",
            "workflow_message": "now started",
            "last_updated": "2026-11-28T08:00:00+00:00",
            "workflow_step": "verify-payment",
        }
    ]
    assert orders.metadata["gift_note"] == "from grandma"


def test_backward_update_is_not_applied_and_reports_stored_status(
    function: types.ModuleType, orders: FakeMedusaOrders, webhook_secret: str
) -> None:
    send(function, webhook_secret, report("inventory_reserved", "2026-11-28T08:00:02Z"))
    result = send(function, webhook_secret, report("payment_verified", "2026-11-28T08:00:03Z"))
    assert result == (
        200,
        {"order_id": ORDER_ID, "applied": False, "workflow_status": "inventory_reserved", "reason": "stale"},
    )
    assert len(orders.posted) == 1


def test_terminal_status_is_final(
    function: types.ModuleType, orders: FakeMedusaOrders, webhook_secret: str
) -> None:
    send(function, webhook_secret, report("payment_failed"))
    status, body = send(function, webhook_secret, report("completed"))
    assert (status, body["applied"], body["workflow_status"]) == (200, False, "payment_failed")
    assert orders.metadata["workflow_status"] == "payment_failed"


def test_canceled_order_is_not_applied_and_not_an_error(
    function: types.ModuleType, orders: FakeMedusaOrders, webhook_secret: str
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


def test_concurrent_reports_in_one_instance_never_regress(
    function: types.ModuleType, orders: FakeMedusaOrders, webhook_secret: str
) -> None:
    statuses = ["started", "payment_verified", "inventory_reserved", "completed"] * 5
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda s: send(function, webhook_secret, report(s)), statuses))
    ranks = [WorkflowStatus(sent["workflow_status"]).rank for sent in orders.posted]
    assert ranks == sorted(ranks), "a write moved the order backwards"
    assert orders.metadata["workflow_status"] == "completed"


def test_unknown_order_is_404(
    function: types.ModuleType, orders: FakeMedusaOrders, webhook_secret: str
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
    function: types.ModuleType, orders: FakeMedusaOrders
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
        router.route(path__regex=r"^/admin/orders/").mock(**medusa_answer)
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
