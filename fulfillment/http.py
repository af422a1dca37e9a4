"""The HTTP rules both functions share: ONE entry for a signed JSON POST, one mapping of errors to answers.

`signed_json_endpoint` checks cheapest first and before anything is parsed: method (405), content type
(415), size (413, from Content-Length before reading, else after reading one byte more than allowed), the
body's framing and read deadline (400, 408), the Standard Webhooks signature over the raw bytes (401), and
only then JSON (400, also for nesting deeper than MAX_JSON_DEPTH). Errors the handler raises are mapped
once, in `problem_for`: Medusa and engine failures become 503 + Retry-After (the sender retries), an unknown
order 404. Every answer has a JSON body; errors are
`{"error": CODE, "message": TEXT}`. See docs/contracts.md.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, Protocol, TypeVar

import flask
from pydantic import BaseModel, ValidationError

from fulfillment.errors import (
    EngineError,
    EngineUnavailable,
    InvalidSignature,
    MedusaAuthError,
    MedusaError,
    OrderNotFound,
)
from fulfillment.logs import bind, context_of
from fulfillment.signatures import verify

logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 64 * 1024
# Our bodies nest three levels; anything much deeper is not ours, and refusing it before json.loads keeps
# the parser's recursion bounded on every Python version.
MAX_JSON_DEPTH: Final = 32
RETRY_AFTER_SECONDS: Final = 30
DEFAULT_BODY_DEADLINE_SECONDS: Final = 10.0
READ_CHUNK_BYTES: Final = 16 * 1024
LINGER_BYTES: Final = 1024 * 1024
LINGER_SECONDS: Final = 2.0
JSON_MIMETYPE: Final = "application/json"

_JSON_STRUCTURE: Final = re.compile(rb'[\[\]{}"\\]')

ModelT = TypeVar("ModelT", bound=BaseModel)
Handler = Callable[[flask.Request], flask.Response]
PayloadHandler = Callable[[dict[str, Any]], flask.Response]


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes | None: ...


class HttpProblem(Exception):
    """An error answer: raise it anywhere below a `signed_json_endpoint`."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        *,
        body_unread: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = dict(headers or {})
        # Answered before the body was read to its end (too large, too slow, broken, not wanted at all).
        self.body_unread = body_unread

    def response(self, unread: _Readable | None = None) -> flask.Response:
        """The answer; `unread` is the request body a `body_unread` answer leaves behind."""
        payload = {"error": self.error, "message": self.message}
        if not self.body_unread:
            return json_response(self.status, payload, self.headers)
        # functions-framework reads the whole request body before sending any answer that is not streamed
        # (to spare clients a reset). A streamed answer is on the wire first; then at most LINGER_BYTES of
        # the rest are discarded, so a client still sending a moderately large body can finish and read the
        # answer, while a huge or endless one is cut off (the server then closes the connection).
        return flask.Response(
            _then_discard(json.dumps(payload, separators=(",", ":")), unread),
            status=self.status,
            mimetype=JSON_MIMETYPE,
            headers=self.headers,
        )


def _then_discard(answer: str, unread: _Readable | None) -> Iterator[str]:
    yield answer
    if unread is None:
        return
    deadline = time.monotonic() + LINGER_SECONDS
    discarded = 0
    with contextlib.suppress(Exception):  # a broken or closed body: nothing left to be polite about
        while discarded < LINGER_BYTES and time.monotonic() < deadline:
            chunk = unread.read(READ_CHUNK_BYTES)
            if not chunk:
                return
            discarded += len(chunk)


def unavailable(error: str, message: str) -> HttpProblem:
    """503 with Retry-After: the sender should try again later."""
    return HttpProblem(503, error, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def json_response(
    status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> flask.Response:
    return flask.Response(
        json.dumps(payload, separators=(",", ":")),
        status=status,
        mimetype=JSON_MIMETYPE,
        headers=dict(headers or {}),
    )


def signed_json_endpoint(
    secrets: Sequence[str], *, body_deadline_seconds: float = DEFAULT_BODY_DEADLINE_SECONDS
) -> Callable[[PayloadHandler], Handler]:
    """The one request entry of both functions: `handler` gets the verified JSON object of a signed POST;
    the errors it raises are mapped by `problem_for`."""

    def decorate(handler: PayloadHandler) -> Handler:
        @functools.wraps(handler)
        def endpoint(request: flask.Request) -> flask.Response:
            try:
                body = read_json_post(request, deadline_seconds=body_deadline_seconds)
                verify_signature(request, body, secrets)
                return handler(parse_json_object(body))
            except Exception as exc:
                return _answer_error(exc, request)

        return endpoint

    return decorate


def problem_for(error: Exception) -> HttpProblem | None:
    """The answer for an error of Medusa or the engine (None for an error nobody expected: a bug)."""
    if isinstance(error, HttpProblem):
        return error
    if isinstance(error, OrderNotFound):
        return HttpProblem(404, "order_not_found", "Medusa has no such order")
    if isinstance(error, MedusaAuthError):
        # The plugin does not accept our secret: an operator must fix it, and the sender's retry then works.
        return unavailable("medusa_auth_failed", "the plugin refused this function's secret")
    if isinstance(error, MedusaError):
        return unavailable("medusa_unavailable", "Medusa cannot be used now, retry later")
    if isinstance(error, EngineUnavailable):
        return unavailable("engine_unavailable", "the process engine cannot be reached, retry later")
    if isinstance(error, EngineError):
        return unavailable("engine_error", "the process engine refused the message, retry later")
    return None


def _answer_error(error: Exception, request: flask.Request) -> flask.Response:
    problem = problem_for(error)
    with bind(**context_of(error)):
        if problem is None:
            logger.exception("unexpected error")
            return json_response(500, {"error": "internal_error", "message": "unexpected error, see logs"})
        # The cause is named by its type and our own message (status codes, paths), never a body.
        cause = error if problem is not error else error.__cause__
        details = {
            # `event`, `http_status` and `error` feed the log-based metrics (terraform/monitoring.tf).
            "event": "request_refused",
            "http_status": problem.status,
            "error": problem.error,
            "reason": problem.message,
            "cause": f"{type(cause).__name__}: {cause}" if cause else None,
            "medusa_status": getattr(cause, "status_code", None) if isinstance(cause, MedusaError) else None,
        }
        level = logging.WARNING if problem.status >= 500 else logging.INFO
        if isinstance(error, (MedusaAuthError, EngineError)) and not isinstance(error, EngineUnavailable):
            level = logging.ERROR  # needs an operator, not a retry
        logger.log(level, "answered %s %s", problem.status, problem.error, extra=details)
    return problem.response(unread=request.stream)


def read_json_post(
    request: flask.Request,
    max_bytes: int = MAX_BODY_BYTES,
    *,
    deadline_seconds: float = DEFAULT_BODY_DEADLINE_SECONDS,
) -> bytes:
    """The raw body of a JSON POST of at most `max_bytes` (405 / 415 / 413 / 400 / 408 otherwise)."""
    if request.method != "POST":
        raise HttpProblem(
            405, "method_not_allowed", "only POST is accepted", {"Allow": "POST"}, body_unread=True
        )
    if request.mimetype != JSON_MIMETYPE:
        raise HttpProblem(
            415, "unsupported_media_type", f"Content-Type must be {JSON_MIMETYPE}", body_unread=True
        )
    too_large = HttpProblem(
        413, "payload_too_large", f"the body must be at most {max_bytes} bytes", body_unread=True
    )
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large  # before reading a byte of it
    # Read one byte more than allowed instead of trusting Content-Length (chunked bodies have none).
    with _read_deadline(request.environ.get("gunicorn.socket"), deadline_seconds) as expired:
        try:
            body = _read_at_most(request.stream, max_bytes + 1)
        except Exception as exc:  # the server's framing errors have server-specific types
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise _too_slow() from exc
            raise HttpProblem(
                400, "invalid_body_framing", "the body is not framed correctly", body_unread=True
            ) from exc
    if expired.is_set():
        raise _too_slow()
    if len(body) > max_bytes:
        raise too_large
    if request.content_length is not None and len(body) != request.content_length:
        raise HttpProblem(400, "invalid_body_framing", "the body is shorter than its Content-Length")
    return body


def _too_slow() -> HttpProblem:
    return HttpProblem(408, "request_timeout", "the body did not arrive in time", body_unread=True)


@contextmanager
def _read_deadline(connection: object, seconds: float) -> Iterator[threading.Event]:
    """Ends a read that is still running after `seconds` by shutting the socket's read side, so a client
    that sends its body slowly holds a server thread for at most that long (whatever its pace)."""
    expired = threading.Event()
    if not isinstance(connection, socket.socket):  # not served by gunicorn (e.g. a test client)
        yield expired
        return

    def expire() -> None:
        expired.set()
        with contextlib.suppress(OSError):  # already closed
            connection.shutdown(socket.SHUT_RD)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


def _read_at_most(stream: _Readable, limit: int) -> bytes:
    # A single read() of a raw WSGI stream may return less than asked for before the end of the body.
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, READ_CHUNK_BYTES))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def verify_signature(request: flask.Request, body: bytes, secrets: Sequence[str]) -> None:
    try:
        verify(secrets, dict(request.headers.items()), body)
    except InvalidSignature as exc:
        raise HttpProblem(401, "invalid_signature", str(exc)) from exc


def parse_json_object(body: bytes) -> dict[str, Any]:
    if json_depth(body) > MAX_JSON_DEPTH:
        raise HttpProblem(400, "invalid_json", f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, integers too long to convert
        raise HttpProblem(400, "invalid_json", "the body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise HttpProblem(400, "invalid_body", "the body must be a JSON object")
    return payload


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in `body` (brackets inside strings do not count); one pass
    over the structural bytes only, so it is cheap for any body."""
    depth = deepest = 0
    in_string = False
    escaped_until = 0  # a backslash in a string escapes the byte after it
    for match in _JSON_STRUCTURE.finditer(body):
        if match.start() < escaped_until:
            continue
        token = match.group()
        if in_string:
            if token == b"\\":
                escaped_until = match.end() + 1
            elif token == b'"':
                in_string = False
        elif token == b'"':
            in_string = True
        elif token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def validate(model: type[ModelT], payload: Mapping[str, Any]) -> ModelT:
    """`model` from `payload`, or 400 naming the fields that are wrong (values are not echoed)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in exc.errors(include_input=False, include_url=False)
        )
        raise HttpProblem(400, "invalid_body", problems) from exc
