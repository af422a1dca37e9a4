"""The one client for the plugin's signed routes (sync httpx; functions and worker threads share it).

`POST /fulfillment-workflow/orders/{id}/view|cancel|status`, outside `/admin`: no Medusa admin credential
leaves Medusa. Each body names its route and order (`{"action", "order_id", ...}`, since the signature
covers the body only) and is signed per Standard Webhooks with the caller's secret, the first one listed:
the worker's (`view`, `cancel`) or the status function's (`status`). See docs/contracts.md.

A caller may share a CallLimit (fulfillment/rate_limit.py): every attempt then waits for its token and a
place among the calls in flight, and holds that place until its answer has come back, so the caller never
sends Medusa more than the limit's rate (the worker's MEDUSA_CALLS_PER_SECOND) nor more calls at once than
its bound (MEDUSA_MAX_CALLS_IN_FLIGHT).

Connect errors, timeouts, 429 and 5xx are retried with exponential backoff a bounded number of times and
then raised as MedusaUnavailable; other answers become typed errors at once: 401/403 MedusaAuthError (the
plugin does not accept our secret: a setup fault, never a business outcome), 404 OrderNotFound, 400
MedusaRejected, and anything else, or a 2xx of an unexpected shape, MedusaUnavailable naming the status.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Self, TypeVar

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from fulfillment.errors import (
    MedusaAuthError,
    MedusaRejected,
    MedusaUnavailable,
    NoSlotBeforeDeadline,
    OrderNotFound,
)
from fulfillment.order_ids import is_order_id
from fulfillment.rate_limit import CallLimit, call_slot
from fulfillment.settings import MedusaSettings
from fulfillment.signatures import sign_headers
from fulfillment.workflow import KEY_STATUS, Notification

if TYPE_CHECKING:
    from fulfillment.orders import OrderView

logger = logging.getLogger(__name__)

ROUTE_PREFIX: Final = "/fulfillment-workflow/orders"
PLUGIN_PACKAGE: Final = "medusa-plugin-fulfillment-workflow"

_RETRYABLE_TRANSPORT_ERRORS: Final = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

Action = Literal["view", "cancel", "status"]
AnswerT = TypeVar("AnswerT", bound=BaseModel)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CancelOutcome(_Answer):
    """The `cancel` route's answer. `refused` carries Medusa's reason (a fulfillment exists, the order is
    completed): retrying never changes it. The amounts are the order's payment collections' sums after the
    call."""

    outcome: Literal["canceled", "already_canceled", "refused"]
    reason: str | None = None
    captured_amount: Decimal = Decimal(0)
    refunded_amount: Decimal = Decimal(0)


class NotificationReceipt(_Answer):
    """What the status route did with the mail asked for: sent now, sent before (`duplicate`), or not sent
    because the status was not recorded (`not_recorded`). Any reason is taken as it comes: the receipt only
    informs, and a status write that landed must never read as an outage because of it."""

    sent: bool
    reason: str | None = None


def _none_if_invalid(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return None


class StatusWriteAnswer(_Answer):
    """The status route's answer, which the status function passes on to the worker as it is: whether the
    write landed, why not (`stale`, `order_canceled`: retrying could never change it), the workflow keys
    stored now, and what became of the mail when one was asked for (an answer about the mail that cannot be
    read is taken as none: it only informs)."""

    applied: bool
    reason: Literal["stale", "order_canceled"] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    notification: Annotated[NotificationReceipt | None, WrapValidator(_none_if_invalid)] = None

    @property
    def workflow_status(self) -> str | None:
        """The status stored on the order after the write (None: none stored)."""
        stored = self.metadata.get(KEY_STATUS)
        return None if stored is None else str(stored)

    @property
    def order_canceled(self) -> bool:
        return self.reason == "order_canceled"


class _RetryableResponse(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class MedusaClient:
    """Calls the plugin's routes as one caller, signing every body with `secret`."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        timeout_seconds: float = 10.0,
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
        transport: httpx.BaseTransport | None = None,
        call_limit: CallLimit | None = None,
    ) -> None:
        self._secret = secret
        self._call_limit = call_limit
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        # The whole retry budget stays below three timeouts so a caller answering an HTTP request
        # (the status function) gives up well before its own client does.
        self._retry_budget_seconds = timeout_seconds * 2.5
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0)),
            headers={"accept": "application/json", "content-type": "application/json"},
            transport=transport,
            # Certificates are verified on every https URL. A plain-http one (a local shop) does no TLS at
            # all, and redirects are never followed, so it skips loading the CA bundle: a tenth of the
            # status function's cold start.
            verify=_uses_tls(base_url),
        )

    @classmethod
    def from_settings(cls, settings: MedusaSettings, secret: str, **kwargs: Any) -> Self:
        return cls(
            settings.medusa_backend_url,
            secret,
            timeout_seconds=settings.medusa_timeout_seconds,
            max_attempts=settings.medusa_max_attempts,
            **kwargs,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def view_order(self, order_id: str) -> OrderView:
        """The order as the worker needs it for every step (payment collections, items with their variants
        and inventory items, reservations, workflow keys). Raises OrderNotFound for an unknown order."""
        # Imported at the first read, as Google advises for what not every instance uses: the order models
        # are a good part of a cold start, and the status function, which shares this client, reads none.
        from fulfillment.orders import ViewAnswer

        return self._call("view", order_id, {}, ViewAnswer).order

    def cancel_order(self, order_id: str) -> CancelOutcome:
        """Runs Medusa's cancel workflow through the plugin (it refunds captured payments, cancels uncaptured
        ones and releases the reservations). Safe to retry: a second call answers `already_canceled`."""
        return self._call("cancel", order_id, {}, CancelOutcome)

    def write_status(
        self,
        order_id: str,
        metadata: dict[str, Any],
        replaces: Sequence[str | None],
        notification: Notification | None = None,
    ) -> StatusWriteAnswer:
        """Sets the workflow keys if the order's stored `workflow_status` is one of `replaces` (None: none
        stored); the route compares and writes in one conditional statement and keeps every other
        metadata key.
        `notification` is the customer mail that goes with the status, sent once it is recorded.

        Safe to retry: a write that landed before a lost answer is answered "stale" the second time (and the
        mail, recorded once per order and template, is not sent twice).
        """
        fields: dict[str, Any] = {"metadata": metadata, "replaces": list(replaces)}
        if notification is not None:
            fields["notification"] = notification.model_dump(mode="json", exclude_none=True)
        return self._call("status", order_id, fields, StatusWriteAnswer)

    def _call(self, action: Action, order_id: str, fields: dict[str, Any], answer: type[AnswerT]) -> AnswerT:
        path = _route(order_id, action)
        body = json.dumps({"action": action, "order_id": order_id, **fields}, separators=(",", ":")).encode()
        response = self._send(path, body)
        _raise_for_status(response)
        try:
            # Parsed first, then validated: amounts become Decimals the same way in every field.
            return answer.model_validate(response.json())
        except (ValueError, ValidationError):
            # The answer is never quoted (nor chained): it may carry order data.
            raise MedusaUnavailable(
                f"POST {path}: unexpected answer ({response.status_code}) from the {action} route",
                response.status_code,
            ) from None

    def _send(self, path: str, body: bytes) -> httpx.Response:
        # One message id for every attempt (a retry is the same message); each attempt is signed afresh, so
        # a long retry never outlives the signature's tolerance.
        message_id = f"msg_{uuid.uuid4().hex}"
        retrying = Retrying(
            retry=retry_if_exception_type((*_RETRYABLE_TRANSPORT_ERRORS, _RetryableResponse)),
            stop=stop_after_attempt(self._max_attempts) | stop_after_delay(self._retry_budget_seconds),
            wait=wait_exponential(multiplier=self._backoff_seconds, max=2.0),
            before_sleep=_log_retry,
            reraise=True,
        )

        def no_slot(exc: NoSlotBeforeDeadline) -> MedusaUnavailable:
            return MedusaUnavailable(f"POST {path}: {exc}")

        try:
            for attempt in retrying:
                # The place among the calls in flight is given back before a retry's backoff sleep.
                with attempt, call_slot(self._call_limit, no_slot):
                    headers = sign_headers(self._secret, body, message_id)
                    response = self._http.post(path, content=body, headers=headers)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise _RetryableResponse(response)
        except _RetryableResponse as exc:
            raise MedusaUnavailable(
                f"POST {path}: Medusa answered {exc.response.status_code}", exc.response.status_code
            ) from exc
        except _RETRYABLE_TRANSPORT_ERRORS as exc:
            raise MedusaUnavailable(f"POST {path}: {type(exc).__name__}: {exc}") from exc
        return response


def _uses_tls(base_url: str) -> bool:
    return not base_url.lower().startswith("http://")


def _route(order_id: str, action: Action) -> str:
    # The id goes into the URL path: only ids that look like Medusa's are accepted.
    if not is_order_id(order_id):
        raise ValueError(f"not a Medusa order id: {order_id!r}")
    return f"{ROUTE_PREFIX}/{order_id}/{action}"


def _json_message(response: httpx.Response) -> str | None:
    """The `message` of an error answered as JSON (Medusa's and the plugin's shape), else None. A body of
    any other shape is never quoted: it may be a proxy's page that echoes the request."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return None
    return str(body["message"])[:200]


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    message = _json_message(response)
    request = f"{response.request.method} {response.request.url.path}"
    if status in (401, 403):
        raise MedusaAuthError(
            f"{request}: {status} {message or ''}: does the plugin have our secret?", status
        )
    if status == 404 and message is not None:
        raise OrderNotFound(f"{request}: {message}", status)
    if status == 404:
        # Express's own "Cannot POST ..." page: Medusa runs without the plugin's routes, a setup fault.
        raise MedusaUnavailable(f"{request}: Medusa answered 404: is {PLUGIN_PACKAGE} installed?", status)
    if status == 400:
        raise MedusaRejected(message or "bad request", status)
    # 408, 409, 422, ...: not an answer the contract names; Medusa or a proxy before it is not usable now.
    raise MedusaUnavailable(f"{request}: Medusa answered {status}", status)


def _log_retry(retry_state: Any) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    logger.warning(
        "Medusa call failed, retrying",
        extra={"attempt": retry_state.attempt_number, "error": f"{type(error).__name__}: {error}"},
    )
