"""The status_update entry point with real Flask requests and the plugin's status route mocked with respx:
it verifies the signature with the status secret (401 for any other), compares, merges and mails once."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import pytest
import respx

from fulfillment.errors import InvalidSignature
from fulfillment.medusa import MedusaClient
from fulfillment.signatures import verify

from .helpers import MEDUSA_URL, ORDER_ID, call_function, load_function, new_webhook_secret, signed


class FakeStatusRoute:
    """The plugin's status route for one order: the status secret's signature, then compare the stored
    status with `replaces`, merge, and send the mail asked for once the status is recorded, at most once
    per template."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.metadata: dict[str, Any] = {"gift_note": "from grandma"}
        self.canceled = False
        self.requests: list[dict[str, Any]] = []
        self.mails: list[dict[str, Any]] = []

    def post(self, request: httpx.Request, order_id: str) -> httpx.Response:
        try:
            verify([self.secret], dict(request.headers), request.content)
        except InvalidSignature:
            return httpx.Response(401, json={"message": "Unauthorized"})
        if order_id != ORDER_ID:
            return httpx.Response(
                404, json={"type": "not_found", "message": f"Order id not found: {order_id}"}
            )
        sent = json.loads(request.content)
        assert (sent["action"], sent["order_id"]) == ("status", order_id)
        self.requests.append(sent)
        answer = self._write(sent)
        if "notification" in sent:
            answer["notification"] = self._mail(
                sent, recorded=self.metadata.get("workflow_status") == sent["metadata"]["workflow_status"]
            )
        return httpx.Response(200, json=answer)

    def _write(self, sent: dict[str, Any]) -> dict[str, Any]:
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
        return {"applied": reason is None, "reason": reason, "metadata": workflow}

    def _mail(self, sent: dict[str, Any], *, recorded: bool) -> dict[str, Any]:
        if not recorded:
            return {"sent": False, "reason": "not_recorded"}
        if any(mail["template"] == sent["notification"]["template"] for mail in self.mails):
            return {"sent": False, "reason": "duplicate"}
        self.mails.append(sent["notification"])
        return {"sent": True, "reason": None}


@pytest.fixture
def medusa_secret() -> str:
    return new_webhook_secret()


@pytest.fixture
def orders(medusa_secret: str) -> Iterator[FakeStatusRoute]:
    fake = FakeStatusRoute(medusa_secret)
    with respx.mock(base_url=MEDUSA_URL) as router:
        router.post(path__regex=r"^/fulfillment-workflow/orders/(?P<order_id>[^/]+)/status$").mock(
            side_effect=fake.post
        )
        yield fake


@pytest.fixture
def function(
    clean_env: pytest.MonkeyPatch, webhook_secret: str, medusa_secret: str
) -> Iterator[types.ModuleType]:
    clean_env.setenv("MEDUSA_BACKEND_URL", MEDUSA_URL)
    clean_env.setenv("MEDUSA_STATUS_SECRET", f"{medusa_secret} {new_webhook_secret()}")
    clean_env.setenv("STATUS_UPDATE_SECRET", f"{webhook_secret} {new_webhook_secret()}")
    clean_env.setenv("MEDUSA_MAX_ATTEMPTS", "2")
    module = load_function("status_update")
    # No wait between attempts (the settings' client waits 0.2 s).
    client = MedusaClient(
        MEDUSA_URL, module.SETTINGS.medusa_signing_secret, max_attempts=2, backoff_seconds=0
    )
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
    result = send(
        function, webhook_secret, report("awaiting_payment", "2026-11-28T08:00:00Z", step="verify-payment")
    )
    status, body = result
    assert (status, body["applied"], body["reason"]) == (200, True, None)
    assert body["metadata"]["workflow_status"] == "awaiting_payment"
    assert orders.requests == [
        {
            "action": "status",
            "order_id": ORDER_ID,
            "metadata": {
                "workflow_instance": "2251799813685249",
                "workflow_status": "awaiting_payment",
                "workflow_message": "now awaiting_payment",
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
    status, body = result
    assert (status, body["applied"], body["reason"]) == (200, False, "stale")
    assert body["metadata"]["workflow_status"] == "inventory_reserved"
    assert len(orders.requests) == 2, "one Medusa call per status"
    assert orders.requests[1]["replaces"] == [None, "awaiting_payment"]


def test_terminal_status_is_final(
    function: types.ModuleType,
    orders: FakeStatusRoute,
    webhook_secret: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    send(function, webhook_secret, report("payment_failed"))
    status, body = send(function, webhook_secret, report("completed"))
    assert (status, body["applied"], body["metadata"]["workflow_status"]) == (200, False, "payment_failed")
    assert orders.metadata["workflow_status"] == "payment_failed"
    # A refused update that was not behind the stored status is a conflict worth a look.
    assert [r.levelname for r in caplog.records if r.getMessage() == "status not applied"] == ["WARNING"]


def test_a_refused_repeat_or_lower_rank_is_no_warning(
    function: types.ModuleType,
    orders: FakeStatusRoute,
    webhook_secret: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    send(function, webhook_secret, report("inventory_reserved", "2026-11-28T08:00:02Z"))
    send(function, webhook_secret, report("inventory_reserved", "2026-11-28T08:00:05Z"))
    # A worker clock seconds behind: the later step's earlier occurred_at does not matter, its rank does.
    _status, body = send(function, webhook_secret, report("completed", "2026-11-28T08:00:00Z"))
    send(function, webhook_secret, report("payment_verified", "2026-11-28T08:00:09Z"))
    assert body["applied"] is True
    levels = [r.levelname for r in caplog.records if r.getMessage() == "status not applied"]
    assert levels == ["INFO", "INFO"]


def test_canceled_order_is_not_applied_and_not_an_error(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    send(function, webhook_secret, report("awaiting_payment"))
    orders.canceled = True
    status, body = send(function, webhook_secret, report("payment_verified"))
    assert (status, body["applied"], body["reason"], body["metadata"]["workflow_status"]) == (
        200,
        False,
        "order_canceled",
        "awaiting_payment",
    )


def test_unknown_order_is_404(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    status, body = send(function, webhook_secret, {**report("payment_verified"), "order_id": "order_UNKNOWN"})
    assert (status, body["error"]) == (404, "order_not_found")


@pytest.mark.parametrize(
    "payload",
    [
        report("shipped"),
        {**report("payment_verified"), "order_id": "cart_01"},
        {**report("payment_verified"), "process_instance_key": "12ab"},
        {k: v for k, v in report("payment_verified").items() if k != "message"},
        {**report("payment_verified"), "occurred_at": "yesterday"},
        # Valid ISO 8601 that has no UTC equivalent inside the representable years.
        {**report("payment_verified"), "occurred_at": "9999-12-31T23:59:59-23:59"},
        {**report("payment_verified"), "occurred_at": "0001-01-01T00:00:00+23:59"},
        ["payment_verified"],
        report("started"),
        report("failed"),
        report("completed", notification={"template": "order-shipped", "data": {}}),
        report("completed", notification={"template": "order-confirmation", "data": {"email": "x@y.z"}}),
        report("completed", notification={"template": "order-confirmation", "to": "x@y.z"}),
        report(
            "payment_failed",
            notification={"template": "order-canceled-payment", "data": {"reason": "x" * 501}},
        ),
        report("completed", notification="order-confirmation"),
    ],
)
def test_invalid_report_is_400(function: types.ModuleType, webhook_secret: str, payload: object) -> None:
    assert send(function, webhook_secret, payload)[0] == 400


def test_second_secret_is_accepted_and_foreign_one_refused(
    function: types.ModuleType, orders: FakeStatusRoute
) -> None:
    rotated_in = function.SETTINGS.status_update_secrets[1]
    assert send(function, rotated_in, report("payment_verified"))[0] == 200
    assert send(function, new_webhook_secret(), report("payment_verified"))[0] == 401


@pytest.mark.parametrize(
    "medusa_answer",
    [
        {"side_effect": httpx.ConnectError("refused")},
        {"return_value": httpx.Response(200, text="<html>proxy</html>")},
        {"return_value": httpx.Response(200, json={"order": None})},
        {"return_value": httpx.Response(409, json={"message": "conflict"})},
        {"return_value": httpx.Response(422, json={"message": "unprocessable"})},
        {"return_value": httpx.Response(404, text="Cannot POST /fulfillment-workflow/orders/x/status")},
    ],
    ids=["down", "html", "no-answer", "409", "422", "no-plugin"],
)
def test_medusa_down_or_answering_unexpectedly_is_503_with_retry_after(
    function: types.ModuleType, webhook_secret: str, medusa_answer: dict[str, Any]
) -> None:
    with respx.mock(base_url=MEDUSA_URL) as router:
        router.route(path__regex=r"^/fulfillment-workflow/").mock(**medusa_answer)
        body, headers = signed(webhook_secret, report("payment_verified"))
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


def test_the_mail_goes_with_the_status_and_its_receipt_comes_back(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    mail = {"template": "order-confirmation", "data": {}}
    send(function, webhook_secret, report("inventory_reserved"))

    first = send(function, webhook_secret, report("completed", notification=mail))
    # A worker's retry after a lost answer: the status is stored already; the plugin mails nobody twice.
    again = send(function, webhook_secret, report("completed", notification=mail))

    assert orders.requests[1]["notification"] == mail
    status, body = first
    assert (status, body["applied"], body["metadata"]["workflow_status"]) == (200, True, "completed")
    assert body["notification"] == {"sent": True, "reason": None}
    assert again[1]["applied"] is False
    assert again[1]["notification"] == {"sent": False, "reason": "duplicate"}
    assert orders.mails == [mail]


def test_a_mail_reason_the_contract_does_not_name_is_still_a_handled_report(
    function: types.ModuleType, webhook_secret: str
) -> None:
    # e.g. the plugin's `no_email` for an order without an address: the status landed all the same.
    with respx.mock(base_url=MEDUSA_URL) as router:
        router.post(path__regex=r"/status$").respond(
            200,
            json={
                "applied": True,
                "reason": None,
                "metadata": {"workflow_status": "completed"},
                "notification": {"sent": False, "reason": "no_email"},
            },
        )
        status, body = send(
            function, webhook_secret, report("completed", notification={"template": "order-confirmation"})
        )

    assert (status, body["applied"], body["notification"]) == (
        200,
        True,
        {"sent": False, "reason": "no_email"},
    )


def test_the_failure_mail_carries_its_reason(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    mail = {"template": "order-canceled-payment", "data": {"reason": "The payment was not completed."}}

    send(function, webhook_secret, report("payment_failed", notification=mail))

    assert orders.requests[0]["notification"] == mail


def test_a_report_without_a_mail_asks_for_none_and_answers_none(
    function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    _status, body = send(function, webhook_secret, report("payment_verified"))

    assert "notification" not in orders.requests[0]
    assert "notification" not in body


def test_the_plugin_refusing_the_status_secret_is_503_never_an_outcome(
    clean_env: pytest.MonkeyPatch, function: types.ModuleType, orders: FakeStatusRoute, webhook_secret: str
) -> None:
    # The function holds another caller's secret (e.g. the worker's): the plugin answers 401.
    wrong = MedusaClient(MEDUSA_URL, new_webhook_secret(), max_attempts=1)
    clean_env.setattr(function, "MEDUSA", wrong)

    body, headers = signed(webhook_secret, report("payment_verified"))
    response = call_function(function.status_update, body, headers=headers)
    wrong.close()

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert json.loads(response.get_data())["error"] == "medusa_auth_failed"
    assert orders.requests == []


def test_the_function_signs_with_the_first_status_secret(
    clean_env: pytest.MonkeyPatch, webhook_secret: str, medusa_secret: str
) -> None:
    clean_env.setenv("MEDUSA_BACKEND_URL", MEDUSA_URL)
    clean_env.setenv("MEDUSA_STATUS_SECRET", f"{medusa_secret},{new_webhook_secret()}")
    clean_env.setenv("STATUS_UPDATE_SECRET", webhook_secret)
    module = load_function("status_update")

    assert module.SETTINGS.medusa_signing_secret == medusa_secret
