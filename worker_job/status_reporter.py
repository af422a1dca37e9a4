"""Reports each state change of an order to the status function (signed, optionally with an ID token).

A report that does not reach the status function raises StatusReportFailed; the job handler lets it
propagate, so the job is failed and retried by the engine instead of completing with the order's metadata
out of date. Each report is one call of the plugin's status route by the status function, so it takes a
turn of the worker's limit on Medusa calls (the one its MedusaClient uses) before it is sent, and holds its
place among the calls in flight until the status function has answered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from pydantic import ValidationError

from fulfillment.errors import NoSlotBeforeDeadline
from fulfillment.medusa import StatusWriteAnswer
from fulfillment.rate_limit import CallLimit, call_slot
from fulfillment.signatures import sign_headers
from fulfillment.workflow import MESSAGE_MAX_LENGTH, Notification, StatusUpdate, WorkflowStatus
from worker_job.job_context import JobContext

logger = logging.getLogger(__name__)

# Renew a cached ID token this long before it expires (Google's tokens live one hour).
ID_TOKEN_RENEW_MARGIN_SECONDS: Final = 300
DEFAULT_TIMEOUT_SECONDS: Final = 15.0


class StatusReportFailed(Exception):
    """The status function could not be reached or refused the report."""


def fetch_google_id_token(audience: str) -> str:
    """An ID token for `audience` from the metadata server or the configured service account."""
    # Imported here: only deployments with status_update_use_id_token need google-auth's transport.
    import google.auth.transport.requests
    import google.oauth2.id_token

    request = google.auth.transport.requests.Request()
    token = google.oauth2.id_token.fetch_id_token(request, audience)  # type: ignore[no-untyped-call]
    return str(token)


def token_expiry(token: str) -> float:
    """The `exp` claim (Unix seconds) of a JWT; the signature is the receiver's business, not ours."""
    from google.auth import jwt

    claims: dict[str, Any] = jwt.decode(token, verify=False)  # type: ignore[no-untyped-call]
    return float(claims["exp"])


class IdTokenSource:
    """Google ID tokens for one audience, cached until shortly before they expire; thread-safe."""

    def __init__(
        self,
        audience: str,
        fetch: Callable[[str], str] = fetch_google_id_token,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._audience = audience
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - ID_TOKEN_RENEW_MARGIN_SECONDS:
                self._token = self._fetch(self._audience)
                self._expires_at = token_expiry(self._token)
            return self._token


class StatusReporter:
    """POSTs StatusUpdate bodies to STATUS_UPDATE_URL, signed per Standard Webhooks."""

    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        id_tokens: IdTokenSource | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
        call_limit: CallLimit | None = None,
    ) -> None:
        self._url = url
        self._call_limit = call_limit
        self._secret = signing_secret
        self._id_tokens = id_tokens
        self._http = httpx.Client(timeout=timeout_seconds, transport=transport)

    def close(self) -> None:
        self._http.close()

    def report(
        self,
        job: JobContext,
        status: WorkflowStatus,
        message: str,
        notification: Notification | None = None,
    ) -> StatusWriteAnswer:
        """Sends one state change of the job's order, as the job's step, with the customer mail that goes
        with it, and returns the status
        function's answer, which is the plugin's status route's (not applied: stale, repeated, or the order
        is canceled).

        Safe to send again after a lost answer: the mail is sent once the status is recorded, at most once
        per order and template, so a repeated report never mails twice.
        """
        update = StatusUpdate(
            order_id=job.order_id,
            process_instance_key=str(job.process_instance_key),
            status=status,
            # Cut, never refused: a long cause (many missing items, Medusa's reason) must not fail the job.
            message=message[:MESSAGE_MAX_LENGTH],
            step=job.job_type,
            occurred_at=datetime.now(UTC),
            notification=notification,
        )
        answer = _answer(self._post(update))
        logger.info(
            "status reported",
            extra={
                "workflow_status": status.value,
                "step": job.job_type,
                "applied": answer.applied,
                "mail_sent": answer.notification.sent if answer.notification else None,
            },
        )
        return answer

    def _post(self, update: StatusUpdate) -> httpx.Response:
        body = update.model_dump_json(exclude_none=True).encode()
        # The same state change of the same instance keeps its id across retries, so the receiver can
        # recognise a repeat.
        message_id = f"msg_{update.process_instance_key}_{update.status.value}"
        headers = {"content-type": "application/json", **sign_headers(self._secret, body, message_id)}
        if self._id_tokens is not None:
            headers["authorization"] = f"Bearer {self._identity_token()}"
        try:
            with call_slot(self._call_limit, _not_sent):
                response = self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise StatusReportFailed(f"status function unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            raise StatusReportFailed(
                f"status function answered {response.status_code}: {response.text[:300]}"
            )
        return response

    def _identity_token(self) -> str:
        assert self._id_tokens is not None
        try:
            return self._id_tokens.token()
        except Exception as exc:  # google-auth has several error types (no credentials, transport, ...)
            raise StatusReportFailed(f"no ID token for the status function: {exc}") from exc


def _not_sent(no_slot: NoSlotBeforeDeadline) -> StatusReportFailed:
    return StatusReportFailed(f"status report not sent: {no_slot}")


def _answer(response: httpx.Response) -> StatusWriteAnswer:
    try:
        return StatusWriteAnswer.model_validate_json(response.content)
    except ValidationError:
        # Whether the status landed is unknown: a technical fault, retried like any other.
        raise StatusReportFailed("the status function's answer is not a status answer") from None
