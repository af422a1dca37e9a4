"""Fuzzing both functions, served by the real functions-framework, with generated requests (hypothesis).

Each case is one request to `order_webhook` or `status_update`: a valid signed request, or one broken in a
single way (method, content type, size, nesting, framing, signature headers, secret, timestamp, body after
signing, body that is signed but not what the contract asks for). Medusa is a fake of the plugin's status
route on loopback that counts the requests it gets, checks their signature with the status function's
secret, and answers as the case says (a good answer, 404, 409, a proxy's HTML page, an answer of another
shape, 500, 401); the engine's port is closed. The properties:

- no answer is 5xx, except 503 + Retry-After for a valid request (Medusa or the engine cannot be used);
- an invalid request gets a 4xx and never reaches Medusa (the counter does not move) nor the engine (it is
  never answered `engine_unavailable`);
- the order webhook never calls Medusa at all, whatever it is sent;
- neither function logs an unexpected error.

The figures (cases per function and kind, answers by status, 5xx count) are printed at the end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration.served import (  # tests/ is on the path, as for every tier
    ServedFunction,
    read_answer_head,
    start_function,
)
from pydantic import BaseModel

from devstack.parts import free_port
from fulfillment.errors import InvalidSignature
from fulfillment.http import MAX_BODY_BYTES, MAX_JSON_DEPTH
from fulfillment.orders import OrderCanceledData, OrderEvent, OrderPlacedData
from fulfillment.signatures import sign_headers, verify
from fulfillment.workflow import MailTemplate, StatusUpdate, WorkflowStatus

pytestmark = pytest.mark.integration

CASES: Final = int(os.environ.get("FUZZ_CASES", "10000"))
FUNCTIONS: Final = ("order_webhook", "status_update")
MEDUSA_ANSWERS: Final = (
    "written",
    "not_found",
    "conflict",
    "html",
    "other_shape",
    "server_error",
    "unauthorized",
)
MEDUSA_STATUS_SECRET: Final = "whsec_" + base64.b64encode(b"fuzz-medusa-status-route-secret!").decode()


# The fake Medusa -----------------------------------------------------------------------------------------
class FakeMedusa:
    """Counts every request and answers as `answer` says ("written" = what a healthy status route answers
    to a request signed with the status function's secret)."""

    def __init__(self) -> None:
        self.requests = 0
        self.bad_signatures = 0
        self.answer = "written"
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.handle(self)

            def do_POST(self) -> None:
                fake.handle(self)

            def log_message(self, *_: object) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self._lock:
            return self.requests

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests += 1
        raw = request.rfile.read(int(request.headers.get("content-length") or 0))
        status, content_type, body = self._answer(request, raw)
        request.send_response(status)
        request.send_header("content-type", content_type)
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _answer(self, request: BaseHTTPRequestHandler, raw: bytes) -> tuple[int, str, bytes]:
        try:
            verify([MEDUSA_STATUS_SECRET], dict(request.headers.items()), raw)
        except InvalidSignature:
            with self._lock:
                self.bad_signatures += 1
            return 401, "application/json", b'{"message":"Unauthorized"}'
        answers: dict[str, tuple[int, str, bytes]] = {
            "not_found": (404, "application/json", b'{"type":"not_found","message":"Order not found"}'),
            "conflict": (409, "application/json", b'{"message":"conflict for buyer@example.com"}'),
            "html": (200, "text/html", b"<html>proxy login for buyer@example.com</html>"),
            "other_shape": (200, "application/json", b'{"orders":[]}'),
            "server_error": (500, "application/json", b'{"message":"boom"}'),
            "unauthorized": (401, "application/json", b'{"message":"Unauthorized"}'),
        }
        if self.answer in answers:
            return answers[self.answer]
        sent = json.loads(raw)
        payload: dict[str, Any] = {"applied": True, "reason": None, "metadata": sent.get("metadata") or {}}
        if "notification" in sent:
            payload["notification"] = {"sent": True, "reason": None}
        return 200, "application/json", json.dumps(payload).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Served functions ----------------------------------------------------------------------------------------
def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@dataclass
class Target:
    function: ServedFunction
    secret: str


@pytest.fixture(scope="module")
def medusa() -> Iterator[FakeMedusa]:
    fake = FakeMedusa()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def targets(medusa: FakeMedusa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    common = {
        # The webhook gets the Medusa URL too (a shared template): it must never use it.
        "MEDUSA_BACKEND_URL": medusa.url,
        "MEDUSA_STATUS_SECRET": MEDUSA_STATUS_SECRET,
        "MEDUSA_MAX_ATTEMPTS": "1",
        "MEDUSA_TIMEOUT_SECONDS": "5",
        "ZEEBE_ADDRESS": f"127.0.0.1:{free_port()}",  # closed: the engine cannot be reached
        "ZEEBE_REQUEST_TIMEOUT_SECONDS": "5",
    }
    logs = tmp_path_factory.mktemp("fuzz")
    served: dict[str, Target] = {}
    try:
        for name, secret_name in zip(
            FUNCTIONS, ("ORDER_WEBHOOK_SECRET", "STATUS_UPDATE_SECRET"), strict=True
        ):
            secret = new_secret()
            function = start_function(name, {**common, secret_name: secret}, log_path=logs / f"{name}.log")
            served[name] = Target(function, secret)
        yield served
    finally:
        for target in served.values():
            output = target.function.output()
            assert target.function.stop() == 0, output
            assert "unexpected error" not in output, output
            assert "Traceback" not in output, output
            assert "buyer@example.com" not in output, "customer data in the logs"


# Cases ---------------------------------------------------------------------------------------------------
@dataclass
class Case:
    function: str
    kind: str
    valid: bool
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw: bytes | None = None  # sent as is over a socket (broken framing)
    medusa_answer: str = "written"


order_ids = st.from_regex(r"\Aorder_[A-Za-z0-9]{1,30}\Z")
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
timestamps = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat()),
    st.text(max_size=30),
    st.sampled_from(["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-02-30T00:00:00Z"]),
)


workflow_statuses = st.none() | st.sampled_from([status.value for status in WorkflowStatus])


@st.composite
def webhook_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """An event as the plugin signs it: order.placed with what it read, order.canceled with the status."""
    order_id = draw(order_ids)
    payload: dict[str, Any] = {
        "type": "order.placed",
        "data": {
            "id": order_id,
            "display_id": draw(st.none() | st.integers(1, 10**6)),
            "currency_code": draw(st.sampled_from(["eur", "usd", "jpy"])),
            "total": draw(st.integers(0, 10**6) | st.decimals(0, 10**6, places=2).map(float)),
            "created_at": draw(timestamps),
            "workflow_status": draw(workflow_statuses),
        },
    }
    if draw(st.booleans()):
        payload["occurred_at"] = draw(timestamps)
    kind = draw(st.integers(0, 9))
    if kind < 3:
        status = draw(st.sampled_from(["canceled", "pending", "completed"]))
        payload = {**payload, "type": "order.canceled", "data": {"id": order_id, "status": status}}
    elif kind == 3:
        payload["type"] = draw(st.sampled_from(["order.updated", "customer.created", ""]))
    return payload


@st.composite
def status_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "order_id": draw(order_ids),
        "process_instance_key": draw(st.integers(0, 2**63) | st.from_regex(r"\A[0-9]{1,20}\Z")),
        "status": draw(st.sampled_from([status.value for status in WorkflowStatus])),
        "message": draw(st.text(max_size=60)),
    }
    if draw(st.booleans()):
        payload["step"] = draw(st.text(max_size=20))
    if draw(st.booleans()):
        payload["occurred_at"] = draw(timestamps)
    if draw(st.booleans()):
        reason = draw(st.none() | st.text(max_size=40))
        payload["notification"] = {
            "template": draw(st.sampled_from([template.value for template in MailTemplate])),
            "data": {} if reason is None else {"reason": reason},
        }
    return payload


WEBHOOK_EVENTS: Final[dict[str, type[BaseModel]]] = {
    "order.placed": OrderEvent[OrderPlacedData],
    "order.canceled": OrderEvent[OrderCanceledData],
}


def is_valid(function: str, payload: object) -> bool:
    """What the contract accepts (the models are the contract's executable form)."""
    if not isinstance(payload, dict):
        return False
    model: type[BaseModel] = StatusUpdate
    if function == "order_webhook":
        event_type = payload.get("type")
        if not isinstance(event_type, str):
            return False
        if event_type not in WEBHOOK_EVENTS:
            return True  # other event types: 202 ignored
        model = WEBHOOK_EVENTS[event_type]
    try:
        model.model_validate(payload)
    except ValueError:
        return False
    return True


def corrupt(draw: st.DrawFn, payload: dict[str, Any]) -> object:
    """The payload with one field dropped, retyped or replaced, or not an object at all."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(json_values)
    key = draw(st.sampled_from(sorted(payload)))
    changed = dict(payload)
    if choice == 1:
        del changed[key]
    else:
        changed[key] = draw(json_values)
    return changed


def mutate_header(draw: st.DrawFn, headers: dict[str, str]) -> dict[str, str]:
    name = draw(st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]))
    changed = dict(headers)
    how = draw(st.integers(0, 4))
    if how == 0:
        del changed[name]
    elif how == 1:
        changed[name] = draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60))
    elif how == 2:
        changed[name] = draw(st.sampled_from(["+", " ", ".5", "_", "!", "="])) + changed[name]
    elif how == 3:
        changed[name] = changed[name] + draw(st.sampled_from([".5", "=", "!", " v1,", "_0"]))
    else:
        changed[name] = changed[name][: draw(st.integers(0, max(len(changed[name]) - 1, 0)))]
    # HTTP clients refuse to send a value with surrounding whitespace (servers would strip it anyway).
    return {key: value.strip() for key, value in changed.items()}


def sign_any_bytes(secret: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers for any bytes (the library signs text only): HMAC-SHA256 over id.ts.body."""
    headers = sign_headers(secret, b"")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return {**headers, "webhook-signature": "v1," + base64.b64encode(digest).decode()}


def encode(payload: object) -> bytes:
    return json.dumps(payload).encode()


def chunked(head: dict[str, str], tail: bytes) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in head.items())
    return f"POST / HTTP/1.1\r\nHost: fuzz\r\n{lines}Transfer-Encoding: chunked\r\n\r\n".encode() + tail


KINDS: Final = (
    "valid",
    "valid",
    "valid",
    "wrong_secret",
    "stale",
    "header",
    "header",
    "body_after_signing",
    "signed_corrupt_payload",
    "signed_corrupt_payload",
    "signed_bytes",
    "deep",
    "oversize",
    "method",
    "content_type",
    "framing",
)


@st.composite
def cases(draw: st.DrawFn, secrets: dict[str, str]) -> Case:
    function = draw(st.sampled_from(FUNCTIONS))
    secret = secrets[function]
    payload = draw(webhook_payloads() if function == "order_webhook" else status_payloads())
    kind = draw(st.sampled_from(KINDS))
    body = encode(payload)
    case = Case(function, kind, valid=False, medusa_answer=draw(st.sampled_from(MEDUSA_ANSWERS)))
    json_type = {"content-type": "application/json"}

    if kind == "valid":
        case.valid = is_valid(function, payload)
        case.body, case.headers = body, {**json_type, **sign_headers(secret, body)}
    elif kind == "wrong_secret":
        case.body, case.headers = body, {**json_type, **sign_headers(new_secret(), body)}
    elif kind == "stale":
        moment = datetime.now(UTC) + draw(st.sampled_from([timedelta(minutes=-6), timedelta(minutes=6)]))
        case.body, case.headers = body, {**json_type, **sign_headers(secret, body, timestamp=moment)}
    elif kind == "header":
        signed = sign_headers(secret, body)
        mutated = mutate_header(draw, signed)
        case.valid = mutated == signed and is_valid(function, payload)  # a mutation that changed nothing
        case.body, case.headers = body, {**json_type, **mutated}
    elif kind == "body_after_signing":
        headers = sign_headers(secret, body)
        position = draw(st.integers(0, len(body) - 1))
        changed = body[:position] + bytes([body[position] ^ draw(st.integers(1, 255))]) + body[position + 1 :]
        case.body = draw(st.sampled_from([changed, body[:position], body + b" "]))
        case.headers = {**json_type, **headers}
    elif kind == "signed_corrupt_payload":
        corrupted = corrupt(draw, payload)
        case.valid = is_valid(function, corrupted)
        case.body = encode(corrupted)
        case.headers = {**json_type, **sign_headers(secret, case.body)}
    elif kind == "signed_bytes":
        case.body = draw(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
        case.headers = {**json_type, **sign_any_bytes(secret, case.body)}
        case.valid = _parses_valid(function, case.body)
    elif kind == "deep":
        depth = draw(st.integers(MAX_JSON_DEPTH + 1, 10_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        case.body = body[:-1] + b',"deep":' + (opener * depth + closer * depth).encode() + b"}"
        case.headers = {**json_type, **sign_headers(secret, case.body)}
    elif kind == "oversize":
        case.body = (
            body[:-1] + b',"pad":"' + b"x" * draw(st.integers(MAX_BODY_BYTES, 2 * MAX_BODY_BYTES)) + b'"}'
        )
        case.headers = {**json_type, **sign_headers(secret, case.body)}
    elif kind == "method":
        case.method = draw(st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]))
        case.body, case.headers = body, {**json_type, **sign_headers(secret, body)}
    elif kind == "content_type":
        content_type = draw(
            st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
        )
        case.body, case.headers = body, {"content-type": content_type, **sign_headers(secret, body)}
    else:  # framing: a signed valid body sent in broken chunks
        headers = {**json_type, **sign_headers(secret, body)}
        broken = draw(
            st.sampled_from(
                [
                    b"zz\r\n" + body + b"\r\n0\r\n\r\n",  # chunk size not hex
                    b"%x\r\n" % len(body) + body + b"XX0\r\n\r\n",  # no CRLF after the chunk
                    b"%x\r\n" % (len(body) + 10) + body,  # cut short (the client stops writing)
                ]
            )
        )
        case.raw = chunked(headers, broken)
    return case


def _parses_valid(function: str, body: bytes) -> bool:
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return is_valid(function, payload)


# Sending -------------------------------------------------------------------------------------------------
def send_raw(function: ServedFunction, raw: bytes) -> tuple[int, dict[str, str]]:
    with socket.create_connection(("127.0.0.1", function.port), timeout=30) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        return read_answer_head(connection)


@dataclass
class Figures:
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    documented_503: int = 0

    def report(self) -> str:
        kinds = ", ".join(f"{name} {count}" for name, count in sorted(self.cases.items()))
        answers = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (
            f"fuzz: {self.cases.total()} cases ({kinds}); answers {answers}; "
            f"5xx other than the documented 503: {self.server_errors}; documented 503: {self.documented_503}"
        )


def test_no_bad_request_gets_a_5xx_or_reaches_medusa_or_the_engine(
    targets: dict[str, Target], medusa: FakeMedusa, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = Figures()
    started = time.monotonic()
    secrets = {name: target.secret for name, target in targets.items()}
    clients = {
        name: httpx.Client(base_url=target.function.url, timeout=30) for name, target in targets.items()
    }

    def send(case: Case) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        function = targets[case.function].function
        if case.raw is not None:
            status, headers = send_raw(function, case.raw)
            return status, headers, None
        response = clients[case.function].request(case.method, "/", content=case.body, headers=case.headers)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return response.status_code, dict(response.headers), answer

    @settings(
        max_examples=CASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(secrets))
    def check(case: Case) -> None:
        medusa.answer = case.medusa_answer
        before = medusa.count()
        status, headers, answer = send(case)
        reached_medusa = medusa.count() - before
        figures.cases[f"{case.function}/{case.kind}/{'valid' if case.valid else 'invalid'}"] += 1
        figures.statuses[status] += 1
        documented = status == 503 and case.valid and int(headers.get("retry-after", "0")) > 0
        figures.documented_503 += documented
        if status >= 500 and not documented:
            figures.server_errors += 1
        context = f"{case.kind} {case.function}: {status} {answer}"
        assert status < 500 or documented, context
        if not case.valid:
            assert 400 <= status < 500, context
            assert reached_medusa == 0, context
            assert not answer or answer.get("error") != "engine_unavailable", context
        if case.function == "order_webhook":
            assert reached_medusa == 0, context

    try:
        check()
    finally:
        for client in clients.values():
            client.close()
        with capsys.disabled():  # the figures reach the terminal (and CI's log) without -s
            print(f"\n{figures.report()}; {time.monotonic() - started:.0f} s")
    assert figures.cases.total() >= CASES
    assert figures.server_errors == 0
    assert medusa.bad_signatures == 0, "the status function signed with a secret the plugin refuses"
