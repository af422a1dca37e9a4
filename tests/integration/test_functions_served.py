"""Both functions served by the real functions-framework CLI on loopback, checked over real HTTP.

Medusa and the engine point at closed ports here: these tests cover everything a function decides before
or without them (method, type, size, signature, body, event type, unreachable dependencies, start-up with
bad settings). The webhook has no Medusa setting at all: a listener on a Medusa URL in its environment
checks that it never calls one. The full path with a real Medusa and the local engine is in tests/e2e. The
EngineBridge is checked against the real local engine at the end.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from devstack.parts import free_port
from fulfillment.engine import EngineBridge
from fulfillment.errors import EngineUnavailable
from fulfillment.settings import EngineSettings
from fulfillment.signatures import sign_headers
from localzeebe.launcher import LocalEngine

from .served import ServedFunction, run_until_exit, start_function

pytestmark = pytest.mark.integration

ORDER_ID = "order_01JABCDEF0123456789XYZABCD"
PLACED = {
    "id": ORDER_ID,
    "display_id": 7,
    "currency_code": "eur",
    "total": 42.5,
    "created_at": "2026-11-28T07:59:58.000Z",
    "workflow_status": None,
}
EVENT = {"type": "order.placed", "occurred_at": "2026-11-28T08:00:00Z", "data": PLACED}
REPORT = {
    "order_id": ORDER_ID,
    "process_instance_key": "2251799813685249",
    "status": "payment_verified",
    "message": "x",
}


class CountingListener:
    """A loopback HTTP server that only counts the requests it gets (and answers 500)."""

    def __init__(self) -> None:
        self.requests = 0
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._count()

            def do_POST(self) -> None:
                self._count()

            def _count(self) -> None:
                listener.requests += 1
                self.send_response(500)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    return {"webhook": new_secret(), "status": new_secret()}


@pytest.fixture(scope="module")
def base_settings() -> dict[str, str]:
    # Nothing listens on these ports: Medusa and the engine are unreachable.
    return {
        "MEDUSA_BACKEND_URL": f"http://127.0.0.1:{free_port()}",
        "MEDUSA_STATUS_SECRET": new_secret(),
        "MEDUSA_MAX_ATTEMPTS": "2",
        "MEDUSA_TIMEOUT_SECONDS": "2",
        "ZEEBE_ADDRESS": f"127.0.0.1:{free_port()}",
        "ZEEBE_REQUEST_TIMEOUT_SECONDS": "2",
    }


@pytest.fixture(scope="module")
def medusa_listener() -> Iterator[CountingListener]:
    listener = CountingListener()
    yield listener
    listener.close()


def _served(
    name: str, settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedFunction]:
    served = start_function(name, settings, log_path=tmp_path_factory.mktemp("served") / f"{name}.log")
    yield served
    assert served.stop() == 0, served.output()


@pytest.fixture(scope="module")
def webhook(
    base_settings: dict[str, str],
    secrets: dict[str, str],
    medusa_listener: CountingListener,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServedFunction]:
    # A Medusa URL left in its environment (e.g. a shared template): the webhook must not use it.
    settings = {
        "MEDUSA_BACKEND_URL": medusa_listener.url,
        "ZEEBE_ADDRESS": base_settings["ZEEBE_ADDRESS"],
        "ZEEBE_REQUEST_TIMEOUT_SECONDS": "2",
        "ORDER_WEBHOOK_SECRET": secrets["webhook"],
    }
    yield from _served("order_webhook", settings, tmp_path_factory)


@pytest.fixture(scope="module")
def status(
    base_settings: dict[str, str], secrets: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedFunction]:
    settings = {**base_settings, "STATUS_UPDATE_SECRET": secrets["status"]}
    yield from _served("status_update", settings, tmp_path_factory)


def signed_post(url: str, secret: str, payload: object, **header_changes: str | None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"content-type": "application/json", **sign_headers(secret, body)}
    for name, value in header_changes.items():
        key = name.replace("_", "-")
        if value is None:
            headers.pop(key)
        else:
            headers[key] = value
    return httpx.post(url, content=body, headers=headers, timeout=30)


def error_of(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    return str(response.json()["error"])


@pytest.fixture(params=["order_webhook", "status_update"])
def any_function(
    request: pytest.FixtureRequest, secrets: dict[str, str]
) -> tuple[ServedFunction, str, object]:
    if request.param == "order_webhook":
        return request.getfixturevalue("webhook"), secrets["webhook"], EVENT
    return request.getfixturevalue("status"), secrets["status"], REPORT


Case = tuple[ServedFunction, str, object]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_only_post_is_allowed(any_function: Case, method: str) -> None:
    function, _, _ = any_function
    response = httpx.request(method, function.url, timeout=10)
    assert (response.status_code, error_of(response)) == (405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_not_json_is_415(any_function: Case) -> None:
    function, secret, payload = any_function
    body = json.dumps(payload).encode()
    headers = {"content-type": "text/plain", **sign_headers(secret, body)}
    response = httpx.post(function.url, content=body, headers=headers, timeout=10)
    assert (response.status_code, error_of(response)) == (415, "unsupported_media_type")


@pytest.mark.parametrize("chunked", [False, True])
def test_body_over_64_kib_is_413(any_function: Case, chunked: bool) -> None:
    function, secret, _ = any_function
    body = json.dumps({"padding": "x" * (64 * 1024)}).encode()
    content: bytes | Iterator[bytes] = iter([body[:1000], body[1000:]]) if chunked else body
    headers = {"content-type": "application/json", **sign_headers(secret, body)}
    response = httpx.post(function.url, content=content, headers=headers, timeout=10)
    assert (response.status_code, error_of(response)) == (413, "payload_too_large")


def test_forged_signature_is_401(any_function: Case) -> None:
    function, _, payload = any_function
    response = signed_post(function.url, new_secret(), payload)
    assert (response.status_code, error_of(response)) == (401, "invalid_signature")


def test_tampered_body_is_401(any_function: Case) -> None:
    function, secret, payload = any_function
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", **sign_headers(secret, body)}
    response = httpx.post(function.url, content=body.replace(b"2", b"3"), headers=headers, timeout=10)
    assert response.status_code == 401


def test_expired_timestamp_is_401(any_function: Case) -> None:
    function, secret, payload = any_function
    body = json.dumps(payload).encode()
    old = sign_headers(secret, body, timestamp=datetime.now(UTC) - timedelta(minutes=6))
    response = httpx.post(function.url, content=body, headers={"content-type": "application/json", **old})
    assert response.status_code == 401
    assert "too old" in response.json()["message"]


@pytest.mark.parametrize("missing", ["webhook_id", "webhook_timestamp", "webhook_signature"])
def test_missing_signature_header_is_401(any_function: Case, missing: str) -> None:
    function, secret, payload = any_function
    response = signed_post(function.url, secret, payload, **{missing: None})
    assert (response.status_code, error_of(response)) == (401, "invalid_signature")


def test_invalid_json_is_400(any_function: Case) -> None:
    function, secret, _ = any_function
    response = signed_post(function.url, secret, b'{"order_id": ')
    assert (response.status_code, error_of(response)) == (400, "invalid_json")


@pytest.mark.parametrize("bad_id", ["order_../../admin", "cart_01ABC", "", 17])
def test_bad_order_id_is_400(any_function: Case, bad_id: object) -> None:
    function, secret, payload = any_function
    assert isinstance(payload, dict)
    if "data" in payload:
        payload = {**payload, "data": {**payload["data"], "id": bad_id}}
    else:
        payload = {**payload, "order_id": bad_id}
    response = signed_post(function.url, secret, payload)
    assert (response.status_code, error_of(response)) == (400, "invalid_body")


def test_other_event_type_is_ignored(webhook: ServedFunction, secrets: dict[str, str]) -> None:
    response = signed_post(
        webhook.url, secrets["webhook"], {"type": "order.updated", "data": {"id": ORDER_ID}}
    )
    assert (response.status_code, response.json()) == (202, {"status": "ignored"})


def test_unknown_status_is_400(status: ServedFunction, secrets: dict[str, str]) -> None:
    response = signed_post(status.url, secrets["status"], {**REPORT, "status": "shipped"})
    assert (response.status_code, error_of(response)) == (400, "invalid_body")
    assert "status" in response.json()["message"]


def test_unreachable_medusa_is_503_with_retry_after(status: ServedFunction, secrets: dict[str, str]) -> None:
    response = signed_post(status.url, secrets["status"], REPORT)
    assert (response.status_code, error_of(response)) == (503, "medusa_unavailable")
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "event",
    [EVENT, {"type": "order.canceled", "data": {"id": ORDER_ID, "status": "canceled"}}],
    ids=["placed", "canceled"],
)
def test_the_webhook_never_calls_medusa_and_an_unreachable_engine_is_503(
    webhook: ServedFunction, secrets: dict[str, str], medusa_listener: CountingListener, event: object
) -> None:
    response = signed_post(webhook.url, secrets["webhook"], event)
    assert (response.status_code, error_of(response)) == (503, "engine_unavailable")
    assert int(response.headers["retry-after"]) > 0
    assert medusa_listener.requests == 0


def test_a_signed_duplicate_is_answered_without_the_engine(
    webhook: ServedFunction, secrets: dict[str, str]
) -> None:
    # The plugin read a workflow status: a process ran for the order. Neither Medusa nor the engine is asked.
    event = {**EVENT, "data": {**PLACED, "workflow_status": "completed"}}
    response = signed_post(webhook.url, secrets["webhook"], event)
    assert (response.status_code, response.json()) == (202, {"order_id": ORDER_ID, "status": "duplicate"})


def test_logs_are_json_lines_with_severity_and_order_id(
    webhook: ServedFunction, secrets: dict[str, str]
) -> None:
    signed_post(webhook.url, secrets["webhook"], EVENT)
    entries = [json.loads(line) for line in webhook.output().splitlines() if line.startswith("{")]
    answered = [e for e in entries if e["message"] == "answered 503 engine_unavailable"]
    assert answered, webhook.output()
    assert answered[-1]["severity"] == "WARNING"
    assert answered[-1]["order_id"] == ORDER_ID
    assert answered[-1]["medusa_status"] is None


@pytest.mark.parametrize(
    ("function", "missing"),
    [
        ("order_webhook", "ORDER_WEBHOOK_SECRET"),
        ("status_update", "STATUS_UPDATE_SECRET"),
        ("status_update", "MEDUSA_STATUS_SECRET"),
        ("status_update", "MEDUSA_BACKEND_URL"),
    ],
)
def test_missing_setting_stops_the_server_with_one_line(
    base_settings: dict[str, str], secrets: dict[str, str], function: str, missing: str
) -> None:
    settings = {
        **base_settings,
        "ORDER_WEBHOOK_SECRET": secrets["webhook"],
        "STATUS_UPDATE_SECRET": secrets["status"],
    }
    del settings[missing]
    result = run_until_exit(function, settings)
    assert result.returncode == 2
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert missing in lines[0]


def test_malformed_setting_is_named_without_its_value(base_settings: dict[str, str]) -> None:
    settings = {**base_settings, "ORDER_WEBHOOK_SECRET": "not-a-webhook-secret"}
    result = run_until_exit("order_webhook", settings)
    assert result.returncode == 2
    assert "ORDER_WEBHOOK_SECRET" in result.stderr
    assert "not-a-webhook-secret" not in result.stderr


# The EngineBridge against the real local engine -----------------------------------------------------


@pytest.fixture(scope="module")
def engine_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("engine") / "localzeebe.log"
    with LocalEngine.start(log_path=log_path) as engine:
        yield engine.grpc_address


def test_bridge_publishes_once_then_reports_duplicate(engine_address: str) -> None:
    settings = EngineSettings(zeebe_address=engine_address)
    bridge = EngineBridge.from_settings(settings, message_ttl_seconds=60)
    try:
        variables = {"order_id": ORDER_ID, "display_id": 1, "currency_code": "eur", "total": 1}
        assert bridge.publish_order_placed(ORDER_ID, variables) == "started"
        assert bridge.publish_order_placed(ORDER_ID, variables) == "duplicate"
        assert bridge.publish_order_placed("order_other", variables) == "started"
    finally:
        bridge.close()


def test_bridge_to_a_stopped_engine_is_unavailable() -> None:
    bridge = EngineBridge.from_settings(EngineSettings(zeebe_address=f"127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(EngineUnavailable):
            bridge.publish_order_placed(ORDER_ID, {})
    finally:
        bridge.close()
