"""The one Medusa Admin API client every part uses (sync httpx; functions and worker threads share it).

Authentication is a secret API key (`sk_...`) sent as HTTP Basic user with an empty password (as a Bearer
token Medusa answers 401). Connect errors, timeouts, 429 and 5xx are retried with exponential backoff a
bounded number of times and then raised as MedusaUnavailable; 4xx answers become typed errors at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, Final, Literal, Self

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from fulfillment.orders import Order, is_order_id
from fulfillment.settings import MedusaSettings

logger = logging.getLogger(__name__)

# `email` is not in Medusa's default field set, and `*items` expands the line items.
ORDER_FIELDS: Final = "id,display_id,metadata,payment_status,status,currency_code,total,+email,*items"
RESERVATIONS_PAGE_SIZE: Final = 100
ORDER_NOT_FOUND_MARKER: Final = "Order id not found"
PLUGIN_PACKAGE: Final = "medusa-plugin-fulfillment-workflow"

_RETRYABLE_TRANSPORT_ERRORS: Final = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class MedusaError(Exception):
    """Any failure talking to Medusa."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class MedusaUnavailable(MedusaError):
    """Medusa could not be reached, timed out or kept answering 5xx/429 after the retries."""


class OrderNotFound(MedusaError):
    """404 for the order."""


class MedusaAuthError(MedusaError):
    """401/403: the API key is wrong, revoked or lacks permission."""


class MedusaRejected(MedusaError):
    """400: Medusa refused the request; the message is Medusa's."""


class WorkflowWrite(BaseModel):
    """The status route's answer: whether the write landed, why not, and the workflow keys stored now."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    applied: bool
    reason: Literal["stale", "order_canceled"] | None
    metadata: dict[str, Any]


class _RetryableResponse(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class MedusaClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_seconds: float = 10.0,
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        # The whole retry budget stays below three timeouts so a caller answering an HTTP request
        # (the functions) gives up well before its own client does.
        self._retry_budget_seconds = timeout_seconds * 2.5
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=httpx.BasicAuth(api_key, ""),
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0)),
            headers={"accept": "application/json"},
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: MedusaSettings, **kwargs: Any) -> Self:
        return cls(
            settings.medusa_backend_url,
            settings.medusa_api_key.get_secret_value(),
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

    def get_order(self, order_id: str) -> Order:
        """The order snapshot the workflow needs (raises OrderNotFound for an unknown id)."""
        path = _order_path(order_id)
        response, body = self._answer("GET", path, params={"fields": ORDER_FIELDS})
        try:
            return Order.model_validate(_order_in(body, response, "GET", path))
        except ValidationError:
            # The error would echo the order's values (the customer's email among them): never chain it.
            raise MedusaUnavailable(
                f"GET {path}: Medusa answered {response.status_code} with an order of an unexpected shape",
                response.status_code,
            ) from None

    def get_order_fields(self, order_id: str, fields: str) -> dict[str, Any]:
        """The order as a raw object with the Admin API's `fields` selection (e.g. "*payment_collections"),
        for reads that need more than the shared snapshot carries."""
        return self._order("GET", _order_path(order_id), params={"fields": fields})

    def write_workflow_status(
        self, order_id: str, metadata: dict[str, Any], replaces: Sequence[str | None]
    ) -> WorkflowWrite:
        """Sets the workflow's metadata keys if the order's stored `workflow_status` is one of `replaces`
        (None: none stored), through the plugin's status route, which compares and writes under a
        per-order lock and keeps every other metadata key. Raises OrderNotFound for an unknown order.

        Safe to retry: a write that landed before a lost answer is answered "stale" the second time, with
        the stored keys.
        """
        try:
            body = self._json(
                "POST", _status_path(order_id), json={"metadata": metadata, "replaces": list(replaces)}
            )
        except OrderNotFound as exc:
            if ORDER_NOT_FOUND_MARKER in str(exc):
                raise
            # Medusa without the plugin has no such route: a setup fault to fix, not a missing order.
            raise MedusaUnavailable(
                f"Medusa has no status route ({exc}): is {PLUGIN_PACKAGE} installed?", 404
            ) from exc
        try:
            return WorkflowWrite.model_validate(body)
        except ValidationError:
            # The answer is never quoted: it may carry customer data.
            raise MedusaUnavailable(
                f"POST {_status_path(order_id)}: unexpected answer from the status route", 200
            ) from None

    def list_reservations(self, line_item_ids: Sequence[str]) -> list[dict[str, Any]]:
        """All reservations for the given line items (every page)."""
        if not line_item_ids:
            return []
        return list(self._reservation_pages(list(line_item_ids)))

    def _reservation_pages(self, line_item_ids: list[str]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            params: list[tuple[str, str | int]] = [("line_item_id", item) for item in line_item_ids]
            params += [("limit", RESERVATIONS_PAGE_SIZE), ("offset", offset)]
            body = self._json("GET", "/admin/reservations", params=params)
            page: list[dict[str, Any]] = body.get("reservations") or []
            yield from page
            offset += len(page)
            if not page or offset >= int(body.get("count", 0)):
                return

    def _order(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response, body = self._answer(method, path, **kwargs)
        return _order_in(body, response, method, path)

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._answer(method, path, **kwargs)[1]

    def _answer(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, dict[str, Any]]:
        """The response and its JSON object; an answer that is no JSON object (e.g. a proxy's HTML page)
        is MedusaUnavailable naming the status, never quoting the body."""
        response = self._send(method, path, **kwargs)
        _raise_for_status(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise MedusaUnavailable(
                f"{method} {path}: Medusa answered {response.status_code} with no JSON object",
                response.status_code,
            )
        return response, body

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        retrying = Retrying(
            retry=retry_if_exception_type((*_RETRYABLE_TRANSPORT_ERRORS, _RetryableResponse)),
            stop=stop_after_attempt(self._max_attempts) | stop_after_delay(self._retry_budget_seconds),
            wait=wait_exponential(multiplier=self._backoff_seconds, max=2.0),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._http.request(method, path, **kwargs)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise _RetryableResponse(response)
        except _RetryableResponse as exc:
            raise MedusaUnavailable(
                f"{method} {path}: Medusa answered {exc.response.status_code}", exc.response.status_code
            ) from exc
        except _RETRYABLE_TRANSPORT_ERRORS as exc:
            raise MedusaUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        return response


def _order_path(order_id: str) -> str:
    return f"/admin/orders/{_order_id_segment(order_id)}"


def _order_id_segment(order_id: str) -> str:
    # The id goes into the URL path: only ids that look like Medusa's are accepted.
    if not is_order_id(order_id):
        raise ValueError(f"not a Medusa order id: {order_id!r}")
    return order_id


def _status_path(order_id: str) -> str:
    return f"/admin/fulfillment-workflow/orders/{_order_id_segment(order_id)}/status"


def _order_in(body: dict[str, Any], response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    order = body.get("order")
    if not isinstance(order, dict):
        raise MedusaUnavailable(
            f"{method} {path}: Medusa answered {response.status_code} without an order", response.status_code
        )
    return order


def _medusa_message(response: httpx.Response) -> str:
    # Only Medusa's own JSON error message: a body of any other shape is never quoted (it may be a page
    # that echoes the request).
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message", ""))[:200] if isinstance(body, dict) else ""


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    message = _medusa_message(response)
    request = f"{response.request.method} {response.request.url.path}"
    if status in (401, 403):
        raise MedusaAuthError(f"{request}: {status} {message}", status)
    if status == 404:
        raise OrderNotFound(f"{request}: {message or 'not found'}", status)
    if status == 400:
        raise MedusaRejected(message or "bad request", status)
    # 408, 409, 422, ...: not an answer this client expects; Medusa or a proxy before it is not usable now.
    raise MedusaUnavailable(f"{request}: Medusa answered {status}", status)


def _log_retry(retry_state: Any) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    logger.warning(
        "Medusa call failed, retrying",
        extra={"attempt": retry_state.attempt_number, "error": f"{type(error).__name__}: {error}"},
    )
