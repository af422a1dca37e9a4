"""The order_webhook entry point with real Flask requests; Medusa mocked with respx, the engine faked."""

from __future__ import annotations

import io
import json
import logging
import types
from collections.abc import Iterator, Mapping
from typing import Any

import flask
import pytest
import respx

from fulfillment.engine import EngineError, EngineUnavailable
from fulfillment.http import MAX_JSON_DEPTH, json_depth
from fulfillment.intake import Publication
from fulfillment.logs import JsonFormatter
from fulfillment.medusa import MedusaClient
from fulfillment.signatures import sign_headers

from .helpers import API_KEY, MEDUSA_URL, ORDER_ID, call_function, load_function, order_json, signed

EVENT = {"type": "order.placed", "timestamp": "2026-11-28T08:00:00Z", "data": {"id": ORDER_ID}}


class FakeEngine:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.failure: Exception | None = None

    def publish_order_placed(self, order_id: str, variables: Mapping[str, Any]) -> Publication:
        if self.failure:
            raise self.failure
        if any(seen == order_id for seen, _ in self.published):
            return "duplicate"
        self.published.append((order_id, dict(variables)))
        return "started"


@pytest.fixture
def webhook(clean_env: pytest.MonkeyPatch, webhook_secret: str) -> Iterator[types.ModuleType]:
    clean_env.setenv("MEDUSA_BACKEND_URL", MEDUSA_URL)
    clean_env.setenv("MEDUSA_API_KEY", API_KEY)
    clean_env.setenv("ORDER_WEBHOOK_SECRET", webhook_secret)
    module = load_function("order_webhook")
    client = MedusaClient(MEDUSA_URL, API_KEY, max_attempts=2, backoff_seconds=0)
    clean_env.setattr(module, "MEDUSA", client)
    clean_env.setattr(module, "ENGINE", FakeEngine())
    yield module
    client.close()


@pytest.fixture
def medusa() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=MEDUSA_URL, assert_all_called=False) as router:
        yield router


def post(module: types.ModuleType, secret: str, payload: object = EVENT) -> flask.Response:
    body, headers = signed(secret, payload)
    return call_function(module.order_webhook, body, headers=headers)


def answer(response: flask.Response) -> tuple[int, dict[str, Any]]:
    assert response.mimetype == "application/json"
    return response.status_code, json.loads(response.get_data())


def test_new_order_starts_the_process(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order_json()})
    assert answer(post(webhook, webhook_secret)) == (202, {"order_id": ORDER_ID, "status": "started"})
    [(order_id, variables)] = webhook.ENGINE.published
    assert order_id == ORDER_ID
    assert variables["email"] == "buyer@example.com"


def test_redelivery_while_message_buffered_is_duplicate(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order_json()})
    post(webhook, webhook_secret)
    assert answer(post(webhook, webhook_secret)) == (202, {"order_id": ORDER_ID, "status": "duplicate"})
    assert len(webhook.ENGINE.published) == 1


def test_order_with_workflow_marker_is_duplicate_without_publishing(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    order = order_json(metadata={"workflow_status": "completed", "gift": True})
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order})
    assert answer(post(webhook, webhook_secret)) == (202, {"order_id": ORDER_ID, "status": "duplicate"})
    assert webhook.ENGINE.published == []


def test_other_event_types_are_ignored_without_calling_medusa(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    payload = {"type": "order.updated", "data": {"id": "not-even-an-order-id"}}
    assert answer(post(webhook, webhook_secret, payload)) == (202, {"status": "ignored"})
    assert not medusa.calls


def test_only_the_order_id_is_trusted(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order_json(email="real@example.com")})
    forged = {**EVENT, "data": {"id": ORDER_ID, "email": "attacker@example.com", "total": 0}}
    post(webhook, webhook_secret, forged)
    assert webhook.ENGINE.published[0][1]["email"] == "real@example.com"


def test_unknown_order_is_422(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(
        404, json={"type": "not_found", "message": "Order id not found"}
    )
    status, body = answer(post(webhook, webhook_secret))
    assert (status, body["error"]) == (422, "order_not_found")


@pytest.mark.parametrize(
    ("medusa_status", "error"), [(503, "medusa_unavailable"), (401, "medusa_auth_failed")]
)
def test_medusa_not_usable_is_503_with_retry_after(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str, medusa_status: int, error: str
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(medusa_status, json={"message": "x"})
    response = post(webhook, webhook_secret)
    assert answer(response)[0] == 503
    assert answer(response)[1]["error"] == error
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("failure", [EngineUnavailable("down"), EngineError("UNAUTHENTICATED")])
def test_engine_failure_is_503_with_retry_after(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str, failure: Exception
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order_json()})
    webhook.ENGINE.failure = failure
    response = post(webhook, webhook_secret)
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_wrong_method_is_405(webhook: types.ModuleType) -> None:
    response = call_function(webhook.order_webhook, method="GET", content_type=None)
    assert answer(response)[0] == 405
    assert response.headers["Allow"] == "POST"


def test_not_json_is_415(webhook: types.ModuleType, webhook_secret: str) -> None:
    body, headers = signed(webhook_secret, EVENT)
    response = call_function(webhook.order_webhook, body, content_type="text/plain", headers=headers)
    assert answer(response)[0] == 415


def test_json_with_charset_is_accepted(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order_json()})
    body, headers = signed(webhook_secret, EVENT)
    response = call_function(
        webhook.order_webhook, body, content_type="application/json; charset=utf-8", headers=headers
    )
    assert response.status_code == 202


def test_body_over_64_kib_is_413_before_the_signature_is_checked(webhook: types.ModuleType) -> None:
    body = json.dumps({**EVENT, "padding": "x" * 64 * 1024}).encode()
    assert answer(call_function(webhook.order_webhook, body))[0] == 413


def test_body_of_exactly_64_kib_is_not_too_large(webhook: types.ModuleType, webhook_secret: str) -> None:
    prefix = json.dumps({**EVENT, "padding": ""}).encode()
    body = prefix.replace(b'"padding": ""', b'"padding": "' + b"x" * (64 * 1024 - len(prefix)) + b'"')
    assert len(body) == 64 * 1024
    status, _ = answer(call_function(webhook.order_webhook, body, headers={}))
    assert status == 401  # got past the size check


def test_missing_signature_is_401(webhook: types.ModuleType) -> None:
    status, body = answer(call_function(webhook.order_webhook, json.dumps(EVENT).encode()))
    assert (status, body["error"]) == (401, "invalid_signature")


def test_signature_by_another_secret_is_401(webhook: types.ModuleType) -> None:
    from .helpers import new_webhook_secret

    assert post(webhook, new_webhook_secret()).status_code == 401


def test_invalid_json_is_400_after_the_signature(webhook: types.ModuleType, webhook_secret: str) -> None:
    from fulfillment.signatures import sign_headers

    body = b'{"type": "order.placed", '
    response = call_function(webhook.order_webhook, body, headers=sign_headers(webhook_secret, body))
    assert answer(response) == (400, {"error": "invalid_json", "message": "the body is not valid JSON"})


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2],
        {"data": {"id": ORDER_ID}},
        {"type": "order.placed", "data": {"id": "order_../../x"}},
        {"type": "order.placed", "data": {}},
        {"type": "order.placed"},
    ],
)
def test_invalid_body_is_400(webhook: types.ModuleType, webhook_secret: str, payload: object) -> None:
    assert answer(post(webhook, webhook_secret, payload))[0] == 400


def test_unexpected_error_is_a_json_500(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order_json()})
    webhook.ENGINE.failure = RuntimeError("bug")
    assert answer(post(webhook, webhook_secret)) == (
        500,
        {"error": "internal_error", "message": "unexpected error, see logs"},
    )


def test_missing_setting_stops_the_import(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("MEDUSA_BACKEND_URL", MEDUSA_URL)
    clean_env.setenv("MEDUSA_API_KEY", API_KEY)
    with pytest.raises(SystemExit) as exited:
        load_function("order_webhook")
    assert exited.value.code == 2
    assert "ORDER_WEBHOOK_SECRET" in capsys.readouterr().err


class TrickleStream(io.RawIOBase):
    """A WSGI input that hands out at most 1000 bytes per read, as a socket may."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), 1000, len(self.data))
        buffer[:size] = self.data[:size]
        self.data = self.data[size:]
        return size


@pytest.mark.parametrize(("size", "expected"), [(64 * 1024, 64 * 1024), (200_000, 64 * 1024 + 1)])
def test_body_is_read_completely_from_a_trickling_stream(size: int, expected: int) -> None:
    from fulfillment.http import _read_at_most

    assert len(_read_at_most(TrickleStream(b"x" * size), 64 * 1024 + 1)) == expected


@pytest.mark.parametrize(
    ("medusa_status", "answer_kwargs"),
    [
        (200, {"text": "<html>login page for buyer@example.com</html>"}),
        (200, {"json": {"orders": [order_json()]}}),
        (200, {"json": {"order": order_json(id="buyer@example.com")}}),
        (408, {"json": {"message": "request timeout for buyer@example.com"}}),
        (409, {"json": {"message": "conflict for buyer@example.com"}}),
        (422, {"json": {"message": "unprocessable: buyer@example.com"}}),
    ],
    ids=["html-200", "no-order", "invalid-order", "408", "409", "422"],
)
def test_an_unexpected_medusa_answer_is_503_logged_by_status_never_by_body(
    webhook: types.ModuleType,
    medusa: respx.MockRouter,
    webhook_secret: str,
    caplog: pytest.LogCaptureFixture,
    medusa_status: int,
    answer_kwargs: dict[str, Any],
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(medusa_status, **answer_kwargs)
    caplog.set_level(logging.INFO)

    response = post(webhook, webhook_secret)

    assert answer(response) == (
        503,
        {"error": "medusa_unavailable", "message": "Medusa cannot be used now, retry later"},
    )
    assert int(response.headers["Retry-After"]) > 0
    [line] = [record for record in caplog.records if record.getMessage() == "answered 503 medusa_unavailable"]
    assert line.levelno == logging.WARNING
    assert getattr(line, "medusa_status", None) == medusa_status
    assert f"Medusa answered {medusa_status}" in str(getattr(line, "cause", ""))
    formatted = [JsonFormatter("test").format(record) for record in caplog.records]
    assert not [text for text in formatted if "buyer@example.com" in text]
    assert webhook.ENGINE.published == []


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 30_000])
def test_deep_nesting_is_400_before_parsing(
    webhook: types.ModuleType, webhook_secret: str, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = f'{{"type":"order.placed","data":{{"id":"{ORDER_ID}"}},"extra":{nested}}}'.encode()
    response = call_function(webhook.order_webhook, body, headers=sign_headers(webhook_secret, body))
    assert answer(response)[0] == 400
    assert answer(response)[1]["error"] == "invalid_json"


def test_nesting_up_to_the_limit_is_accepted(
    webhook: types.ModuleType, medusa: respx.MockRouter, webhook_secret: str
) -> None:
    medusa.get(f"/admin/orders/{ORDER_ID}").respond(json={"order": order_json()})
    nested: object = []
    for _ in range(MAX_JSON_DEPTH - 3):  # levels: the envelope, the list around `nested`, `nested`
        nested = [nested]
    assert answer(post(webhook, webhook_secret, {**EVENT, "extra": [nested]}))[0] == 202


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"a":[1,{"b":[]}]}', 4),
        (b'{"a":"[[[[{{{{"}', 1),
        (b'{"a":"\\"[[[["}', 1),
        (b'{"a":"\\\\","b":[[]]}', 3),
        (b'{"a":"\\u005b[[","b":[]}', 2),
        (b"[[[", 3),
        (b'"unterminated [[[', 0),
    ],
)
def test_json_depth_counts_only_structure_outside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth
