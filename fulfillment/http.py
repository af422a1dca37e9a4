"""The HTTP rules both functions share: one way to check a signed JSON POST and to answer with JSON.

Checks run cheapest first and before anything is parsed: method (405), content type (415), size (413),
then the Standard Webhooks signature over the raw bytes (401), and only then JSON (400). Every answer has
a JSON body; errors are `{"error": CODE, "message": TEXT}`.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeVar

import flask
from pydantic import BaseModel, ValidationError

from fulfillment.logs import bind, context_of
from fulfillment.signatures import InvalidSignature, verify

logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 64 * 1024
RETRY_AFTER_SECONDS: Final = 30
JSON_MIMETYPE: Final = "application/json"

ModelT = TypeVar("ModelT", bound=BaseModel)
Handler = Callable[[flask.Request], flask.Response]


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes | None: ...


class HttpProblem(Exception):
    """An error answer: raise it anywhere below a `json_endpoint`."""

    def __init__(
        self, status: int, error: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> flask.Response:
        return json_response(self.status, {"error": self.error, "message": self.message}, self.headers)


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


def json_endpoint(handler: Handler) -> Handler:
    """Turns HttpProblem into its answer and any other error into a JSON 500 (logged with its traceback)."""

    @functools.wraps(handler)
    def endpoint(request: flask.Request) -> flask.Response:
        try:
            return handler(request)
        except HttpProblem as problem:
            level = logging.WARNING if problem.status >= 500 else logging.INFO
            cause = problem.__cause__
            details = {
                "reason": problem.message,
                "cause": f"{type(cause).__name__}: {cause}" if cause else None,
            }
            with bind(**context_of(problem)):
                logger.log(level, "answered %s %s", problem.status, problem.error, extra=details)
            return problem.response()
        except Exception as exc:
            with bind(**context_of(exc)):
                logger.exception("unexpected error")
            return json_response(500, {"error": "internal_error", "message": "unexpected error, see logs"})

    return endpoint


def read_json_post(request: flask.Request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The raw body of a JSON POST of at most `max_bytes` (405 / 415 / 413 otherwise)."""
    if request.method != "POST":
        raise HttpProblem(405, "method_not_allowed", "only POST is accepted", {"Allow": "POST"})
    if request.mimetype != JSON_MIMETYPE:
        raise HttpProblem(415, "unsupported_media_type", f"Content-Type must be {JSON_MIMETYPE}")
    too_large = HttpProblem(413, "payload_too_large", f"the body must be at most {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    # Read one byte more than allowed instead of trusting Content-Length (chunked bodies have none).
    body = _read_at_most(request.stream, max_bytes + 1)
    if len(body) > max_bytes:
        raise too_large
    return body


def _read_at_most(stream: _Readable, limit: int) -> bytes:
    # A single read() of a raw WSGI stream may return less than asked for before the end of the body.
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(remaining)
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
    try:
        payload = json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise HttpProblem(400, "invalid_json", "the body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise HttpProblem(400, "invalid_body", "the body must be a JSON object")
    return payload


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
