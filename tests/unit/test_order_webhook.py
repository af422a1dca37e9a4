"""The order_webhook entry point with real Flask requests; the engine faked. The function decides from the
signed event alone: every test runs under respx with no route, so any HTTP call at all would fail it."""

from __future__ import annotations

import io
import json
import types
from collections.abc import Iterator, Mapping
from typing import Any

import flask
import pytest
import respx

from fulfillment.errors import EngineError, EngineUnavailable
from fulfillment.http import MAX_JSON_DEPTH, json_depth
from fulfillment.intake import Cancellation, Start
from fulfillment.signatures import sign_headers

from .helpers import ORDER_ID, call_function, load_function, placed_data, signed

EVENT = {"type": "order.placed", "occurred_at": "2026-11-28T08:00:00Z", "data": placed_data()}
CANCELED = {
    "type": "order.canceled",
    "occurred_at": "2026-11-28T09:00:00Z",
    "data": {"id": ORDER_ID, "status": "canceled"},
}


class FakeEngine:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.message_ids: list[str] = []
        self.canceled: list[str] = []
        self.failure: Exception | None = None

    def publish_order_placed(
        self, order_id: str, variables: Mapping[str, Any], message_id: str | None = None
    ) -> Start:
        # Like Zeebe: a message id it still buffers is refused.
        if self.failure:
            raise self.failure
        message_id = message_id or order_id
        if message_id in self.message_ids:
            return "duplicate"
        self.message_ids.append(message_id)
        self.published.append((order_id, dict(variables)))
        return "started"

    def publish_order_canceled(self, order_id: str) -> Cancellation:
        if order_id in self.canceled:
            return "duplicate"
        self.canceled.append(order_id)
        return "canceled"


@pytest.fixture
def no_http() -> Iterator[respx.MockRouter]:
    """respx with no route: a call to Medusa (or anywhere) raises inside the function and answers 500."""
    with respx.mock(assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def webhook(
    clean_env: pytest.MonkeyPatch, webhook_secret: str, no_http: respx.MockRouter
) -> Iterator[types.ModuleType]:
    clean_env.setenv("ORDER_WEBHOOK_SECRET", webhook_secret)
    module = load_function("order_webhook")
    clean_env.setattr(module, "ENGINE", FakeEngine())
    yield module
    assert not no_http.calls, "the webhook called out"


def post(module: types.ModuleType, secret: str, payload: object = EVENT) -> flask.Response:
    body, headers = signed(secret, payload)
    return call_function(module.order_webhook, body, headers=headers)


def answer(response: flask.Response) -> tuple[int, dict[str, Any]]:
    assert response.mimetype == "application/json"
    return response.status_code, json.loads(response.get_data())


def test_the_function_has_no_medusa_setting_or_client(
    clean_env: pytest.MonkeyPatch, webhook_secret: str
) -> None:
    clean_env.setenv("ORDER_WEBHOOK_SECRET", webhook_secret)

    module = load_function("order_webhook")  # no MEDUSA_BACKEND_URL: still starts

    assert not [name for name in vars(module) if "MEDUSA" in name]
    assert not [name for name in type(module.SETTINGS).model_fields if name.startswith("medusa")]


def test_new_order_starts_the_process_with_the_signed_data(
    webhook: types.ModuleType, webhook_secret: str
) -> None:
    assert answer(post(webhook, webhook_secret)) == (202, {"order_id": ORDER_ID, "status": "started"})
    [(order_id, variables)] = webhook.ENGINE.published
    assert order_id == ORDER_ID
    assert variables == {
        "order_id": ORDER_ID,
        "display_id": 7,
        "currency_code": "eur",
        "total": 42.5,
        "created_at": "2026-11-28T08:00:00+00:00",
    }


def test_redelivery_while_message_buffered_is_duplicate(
    webhook: types.ModuleType, webhook_secret: str
) -> None:
    post(webhook, webhook_secret)
    assert answer(post(webhook, webhook_secret)) == (202, {"order_id": ORDER_ID, "status": "duplicate"})
    assert len(webhook.ENGINE.published) == 1


def test_an_order_with_a_workflow_status_is_duplicate_without_publishing(
    webhook: types.ModuleType, webhook_secret: str
) -> None:
    event = {**EVENT, "data": placed_data(workflow_status="completed")}
    assert answer(post(webhook, webhook_secret, event)) == (
        202,
        {"order_id": ORDER_ID, "status": "duplicate"},
    )
    assert webhook.ENGINE.published == []


def test_a_restart_is_published_with_its_own_message_id_whatever_the_stored_status(
    webhook: types.ModuleType, webhook_secret: str
) -> None:
    post(webhook, webhook_secret)
    restart = {**EVENT, "data": placed_data(workflow_status="payment_verified", restart=1)}
    assert answer(post(webhook, webhook_secret, restart)) == (
        202,
        {"order_id": ORDER_ID, "status": "started"},
    )
    assert webhook.ENGINE.message_ids == [ORDER_ID, f"{ORDER_ID}.restart-1"]
    assert webhook.ENGINE.published[1][1]["order_id"] == ORDER_ID


def test_the_same_restart_sent_again_is_duplicate_and_the_next_one_starts(
    webhook: types.ModuleType, webhook_secret: str
) -> None:
    first = {**EVENT, "data": placed_data(workflow_status="inventory_reserved", restart=1)}
    second = {**EVENT, "data": placed_data(workflow_status=None, restart=2)}
    statuses = [answer(post(webhook, webhook_secret, event))[1]["status"] for event in (first, first, second)]
    assert statuses == ["started", "duplicate", "started"]
    assert webhook.ENGINE.message_ids == [f"{ORDER_ID}.restart-1", f"{ORDER_ID}.restart-2"]


@pytest.mark.parametrize("restart", [0, -1, "1", 1.5, True])
def test_a_restart_number_that_is_not_a_positive_integer_is_400(
    webhook: types.ModuleType, webhook_secret: str, restart: object
) -> None:
    event = {**EVENT, "data": placed_data(restart=restart)}
    assert post(webhook, webhook_secret, event).status_code == 400
    assert webhook.ENGINE.published == []


def test_other_event_types_are_ignored(webhook: types.ModuleType, webhook_secret: str) -> None:
    payload = {"type": "order.updated", "data": {"id": "not-even-an-order-id"}}
    assert answer(post(webhook, webhook_secret, payload)) == (202, {"status": "ignored"})


def test_a_canceled_order_publishes_the_cancellation_once(
    webhook: types.ModuleType, webhook_secret: str
) -> None:
    assert answer(post(webhook, webhook_secret, CANCELED)) == (
        202,
        {"order_id": ORDER_ID, "status": "canceled"},
    )
    assert answer(post(webhook, webhook_secret, CANCELED)) == (
        202,
        {"order_id": ORDER_ID, "status": "duplicate"},
    )
    assert webhook.ENGINE.canceled == [ORDER_ID]
    assert webhook.ENGINE.published == []


def test_order_canceled_for_an_order_that_is_not_canceled_publishes_nothing(
    webhook: types.ModuleType, webhook_secret: str
) -> None:
    event = {**CANCELED, "data": {"id": ORDER_ID, "status": "pending"}}
    assert answer(post(webhook, webhook_secret, event)) == (
        202,
        {"order_id": ORDER_ID, "status": "not_canceled"},
    )
    assert webhook.ENGINE.canceled == []


def test_no_customer_data_reaches_the_process(webhook: types.ModuleType, webhook_secret: str) -> None:
    event = {**EVENT, "data": placed_data(email="buyer@example.com", shipping_address={"city": "Berlin"})}
    post(webhook, webhook_secret, event)
    [(_, variables)] = webhook.ENGINE.published
    assert "email" not in variables
    assert "buyer@example.com" not in json.dumps(variables)


@pytest.mark.parametrize("failure", [EngineUnavailable("down"), EngineError("UNAUTHENTICATED")])
def test_engine_failure_is_503_with_retry_after(
    webhook: types.ModuleType, webhook_secret: str, failure: Exception
) -> None:
    webhook.ENGINE.failure = failure
    response = post(webhook, webhook_secret)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


def test_wrong_method_is_405(webhook: types.ModuleType) -> None:
    response = call_function(webhook.order_webhook, method="GET", content_type=None)
    assert answer(response)[0] == 405
    assert response.headers["Allow"] == "POST"


def test_not_json_is_415(webhook: types.ModuleType, webhook_secret: str) -> None:
    body, headers = signed(webhook_secret, EVENT)
    response = call_function(webhook.order_webhook, body, content_type="text/plain", headers=headers)
    assert answer(response)[0] == 415


def test_json_with_charset_is_accepted(webhook: types.ModuleType, webhook_secret: str) -> None:
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
        {"data": placed_data()},
        {"type": "order.placed", "data": placed_data(id="order_../../x")},
        {"type": "order.placed", "data": {}},
        {"type": "order.placed"},
        # The plugin signs what it read: an event without it is not one the function can trust.
        {"type": "order.placed", "data": {"id": ORDER_ID}},
        {"type": "order.placed", "data": {k: v for k, v in placed_data().items() if k != "workflow_status"}},
        {"type": "order.placed", "data": placed_data(total="a lot")},
        {"type": "order.canceled", "data": {"id": ORDER_ID}},
        {"type": "order.canceled", "data": {"id": "cart_01", "status": "canceled"}},
    ],
)
def test_invalid_body_is_400(webhook: types.ModuleType, webhook_secret: str, payload: object) -> None:
    assert answer(post(webhook, webhook_secret, payload))[0] == 400


def test_unexpected_error_is_a_json_500(webhook: types.ModuleType, webhook_secret: str) -> None:
    webhook.ENGINE.failure = RuntimeError("bug")
    assert answer(post(webhook, webhook_secret)) == (
        500,
        {"error": "internal_error", "message": "unexpected error, see logs"},
    )


def test_missing_setting_stops_the_import(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
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


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 30_000])
def test_deep_nesting_is_400_before_parsing(
    webhook: types.ModuleType, webhook_secret: str, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = json.dumps({**EVENT, "extra": "NESTED"}).replace('"NESTED"', nested).encode()
    response = call_function(webhook.order_webhook, body, headers=sign_headers(webhook_secret, body))
    assert answer(response)[0] == 400
    assert answer(response)[1]["error"] == "invalid_json"


def test_nesting_up_to_the_limit_is_accepted(webhook: types.ModuleType, webhook_secret: str) -> None:
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
