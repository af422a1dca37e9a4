"""The shop's and the staff's calls a case makes, each retried while Medusa is down, slow or restarting.

Placement is not under test: a call that fails for a technical reason (connection refused, 5xx, timeout)
is tried again for up to three minutes; an answer Medusa means (4xx) is raised at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
from tenacity import Retrying as _Retrying
from tenacity import retry_if_exception, stop_after_delay, wait_fixed

from devstack.admin import AdminApi, AdminApiError
from devstack.shop import CheckoutError, Shop
from devstack.stack import Stack
from fulfillment.signatures import sign_headers

T = TypeVar("T")
PATIENCE_SECONDS = 180
ADDRESS = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "address_1": "Unter den Linden 1",
    "city": "Berlin",
    "postal_code": "10117",
    "country_code": "de",
}


def transient(error: BaseException) -> bool:
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, AdminApiError):
        return error.status_code >= 500
    # The shop client names the status in its message: "POST /store/carts -> 503: ...".
    return isinstance(error, CheckoutError) and "-> 5" in str(error)


def patiently(call: Callable[[], T]) -> T:
    for attempt in _Retrying(
        retry=retry_if_exception(transient),
        stop=stop_after_delay(PATIENCE_SECONDS),
        wait=wait_fixed(1),
        reraise=True,
    ):
        with attempt:
            return call()
    raise AssertionError("unreachable")  # pragma: no cover


class StackActions:
    """Orders placed through the Store API, staff actions through the Admin API, as the admin user."""

    def __init__(self, stack: Stack) -> None:
        assert stack.seed is not None
        assert stack.secrets is not None
        self.stack = stack
        self.seed = stack.seed
        self.webhook_secret = stack.secrets.order_webhook
        self.admin = AdminApi(stack.medusa_url, token=stack.admin_token)

    def close(self) -> None:
        self.admin.close()

    def place_store_order(self, quantity: int = 1) -> dict[str, Any]:
        def place() -> dict[str, Any]:
            with Shop(self.stack.medusa_url, self.seed.publishable_key, self.seed.region_id) as shop:
                order = shop.place_order(self.seed.variant_id, quantity=quantity)
            return {"id": order.id, "display_id": order.display_id, "total": order.total}

        return patiently(place)

    def convert_draft_order(self, unit_price: float | None = None) -> dict[str, Any]:
        """A phone or B2B sale: a draft order converted to an order, which Medusa marks `not_paid`; with a
        `unit_price`, its one line at that price and no shipping."""
        item: dict[str, Any] = {"variant_id": self.seed.variant_id, "quantity": 1}
        if unit_price is not None:
            item["unit_price"] = unit_price
        body = {
            "email": "grace@example.com",
            "region_id": self.seed.region_id,
            "sales_channel_id": self.seed.sales_channel_id,
            "items": [item],
            "shipping_address": ADDRESS,
            "billing_address": ADDRESS,
        }
        draft = patiently(lambda: self.admin.post("/admin/draft-orders", body))["draft_order"]
        order: dict[str, Any] = patiently(
            lambda: self.admin.post(f"/admin/draft-orders/{draft['id']}/convert-to-order")
        )["order"]
        return order

    def mark_as_paid(self, order_id: str) -> None:
        """What staff do when the customer paid by bank transfer: a payment collection for the outstanding
        amount, marked as paid."""
        summary = patiently(lambda: self.admin.order(order_id, fields="id,summary"))["summary"]
        body = {"order_id": order_id, "amount": summary["pending_difference"]}
        collection = patiently(lambda: self.admin.post("/admin/payment-collections", body))[
            "payment_collection"
        ]
        path = f"/admin/payment-collections/{collection['id']}/mark-as-paid"
        patiently(lambda: self.admin.post(path, {"order_id": order_id}))

    def cancel(self, order_id: str) -> None:
        patiently(lambda: self.admin.post(f"/admin/orders/{order_id}/cancel"))

    def capture(self, order_id: str) -> None:
        order = patiently(lambda: self.admin.order(order_id, fields="id,*payment_collections.payments"))
        for collection in order["payment_collections"]:
            for payment in collection["payments"]:
                self._post_patiently(f"/admin/payments/{payment['id']}/capture")

    def refund(self, order_id: str, amount: float) -> None:
        order = patiently(lambda: self.admin.order(order_id, fields="id,*payment_collections.payments"))
        payment = order["payment_collections"][0]["payments"][0]
        self._post_patiently(f"/admin/payments/{payment['id']}/refund", {"amount": amount})

    def _post_patiently(self, path: str, body: dict[str, Any] | None = None) -> None:
        patiently(lambda: self.admin.post(path, body))

    def reservations(self, order_id: str) -> list[dict[str, Any]]:
        order = patiently(lambda: self.admin.order(order_id, fields="id,*items"))
        line_items = [item["id"] for item in order["items"]]
        found: list[dict[str, Any]] = patiently(
            lambda: self.admin.get("/admin/reservations", line_item_id=line_items)
        )["reservations"]
        return found

    def delete_reservations(self, order_id: str) -> int:
        reservations = self.reservations(order_id)
        for reservation in reservations:
            self._delete_patiently(f"/admin/reservations/{reservation['id']}")
        return len(reservations)

    def _delete_patiently(self, path: str) -> None:
        patiently(lambda: self.admin.delete(path))

    def wait_for_status(self, order_id: str, statuses: set[str], timeout: float) -> str | None:
        """Polls the order's workflow status until it is one of `statuses`; the last one seen."""
        deadline = time.monotonic() + timeout
        seen: str | None = None
        while time.monotonic() < deadline:
            try:
                status = self.admin.order_metadata(order_id).get("workflow_status")
                seen = None if status is None else str(status)
            except (httpx.TransportError, AdminApiError):
                seen = None
            if seen in statuses:
                return seen
            time.sleep(0.5)
        return seen

    def storm(self, order: dict[str, Any], copies: int) -> int:
        """`copies` deliveries of the order's `order.placed`, signed as the plugin signs them (each its own
        webhook id, as the plugin's retries and reconciliation send), all at once; how many were answered."""
        data = {
            "id": order["id"],
            "display_id": order["display_id"],
            "currency_code": "eur",
            "total": order["total"],
            "created_at": "2026-01-01T00:00:00Z",
            "workflow_status": None,
        }
        body = json.dumps(
            {"type": "order.placed", "timestamp": "2026-01-01T00:00:00Z", "data": data}
        ).encode()

        def deliver(_: int) -> bool:
            headers = {**sign_headers(self.webhook_secret, body), "content-type": "application/json"}
            try:
                response = httpx.post(self.stack.order_webhook_url, content=body, headers=headers, timeout=30)
            except httpx.TransportError:
                return False
            return response.status_code == 202

        with ThreadPoolExecutor(max_workers=copies) as pool:
            return sum(pool.map(deliver, range(copies)))
