"""The plugin's routes as the cloud side and staff reach them: signed calls outside /admin, admin calls with
the admin user's token, and orders no process touches (the webhook refuses the subscriber's delivery)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import httpx

from devstack.admin import AdminApi
from devstack.shop import PlacedOrder, Shop
from devstack.stack import Stack
from fulfillment.signatures import sign_headers

from .support import log_lines, poll

Route = Literal["view", "cancel", "status"]
Caller = Literal["worker", "status"]

ROUTE_CALLER: dict[Route, Caller] = {"view": "worker", "cancel": "worker", "status": "status"}


class PluginRoutes:
    """Signed calls to POST /fulfillment-workflow/orders/{id}/{route}, and what they may have changed."""

    def __init__(self, stack: Stack) -> None:
        assert stack.seed is not None
        assert stack.secrets is not None
        self.stack = stack
        self.seed = stack.seed
        self.secrets = {"worker": stack.secrets.medusa_worker, "status": stack.secrets.medusa_status}
        self.http = httpx.Client(base_url=stack.medusa_url, timeout=60)
        self.admin = AdminApi(stack.medusa_url, token=stack.admin_token)

    def close(self) -> None:
        self.http.close()
        self.admin.close()

    # Signed calls ----------------------------------------------------------------------------
    def post(
        self,
        route: Route,
        order_id: str,
        body: dict[str, Any] | None = None,
        *,
        signed_by: Caller | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POSTs `body` (by default the route's own minimal body), signed with the route's caller's secret
        unless `signed_by` names another caller or gives a secret, or `headers` replaces the signature."""
        raw = json.dumps(body if body is not None else {"action": route, "order_id": order_id}).encode()
        if headers is None:
            caller_or_secret = signed_by or ROUTE_CALLER[route]
            headers = sign_headers(self.secrets.get(caller_or_secret, caller_or_secret), raw)
        return self.http.post(
            f"/fulfillment-workflow/orders/{order_id}/{route}",
            content=raw,
            headers={**headers, "content-type": "application/json"},
        )

    def call(self, route: Route, order_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A signed call that must be answered 200; returns the answer."""
        response = self.post(route, order_id, body)
        assert response.status_code == 200, f"{route} {order_id}: {response.status_code} {response.text}"
        answer: dict[str, Any] = response.json()
        return answer

    # What Medusa holds -----------------------------------------------------------------------
    def order(self, order_id: str) -> dict[str, Any]:
        return self.admin.order(order_id, fields="id,status,metadata,*payment_collections")

    def mails(self, order_id: str) -> list[Path]:
        return sorted(self.stack.outbox_dir.glob(f"{order_id}.*.json"))

    def mail(self, order_id: str, template: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(
            (self.stack.outbox_dir / f"{order_id}.{template}.json").read_text()
        )
        return document

    def capture_payment(self, order_id: str) -> None:
        """What staff do in the admin: capture the order's authorized payment."""
        order = self.admin.order(order_id, fields="id,*payment_collections.payments")
        (payment,) = order["payment_collections"][0]["payments"]
        self.admin.post(f"/admin/payments/{payment['id']}/capture")

    def fulfill(self, order_id: str) -> None:
        """What staff do in the admin: create a fulfillment of all the order's items."""
        order = self.admin.order(order_id, fields="id,*items")
        items = [{"id": item["id"], "quantity": item["quantity"]} for item in order["items"]]
        self.admin.post(
            f"/admin/orders/{order_id}/fulfillments",
            {"items": items, "location_id": self.seed.stock_location_id},
        )

    # Orders ----------------------------------------------------------------------------------
    def place_order(self) -> PlacedOrder:
        with Shop(self.stack.medusa_url, self.seed.publishable_key, self.seed.region_id) as shop:
            return shop.place_order(self.seed.variant_id)

    def place_unstarted_order(self) -> PlacedOrder:
        """A real order whose webhook the order webhook refused (while the `guarded_webhook` fixture holds):
        no process touches it, so whatever changes on it is the test's doing."""
        order = self.place_order()
        # The process that runs subscribers: the one Medusa, or the worker-mode one in production's shape.
        medusa_log = self.stack.subscriber_log
        poll(
            lambda: bool(log_lines(medusa_log, f"{order.id}: permanently rejected with HTTP 401")),
            30,
            lambda: f"the subscriber's delivery for {order.id} to be refused",
        )
        return order


def workflow_write(
    order_id: str,
    status: str,
    replaces: list[str | None],
    notification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A status route body as the status function sends it."""
    body: dict[str, Any] = {
        "action": "status",
        "order_id": order_id,
        "metadata": {
            "workflow_status": status,
            "workflow_instance": "2251799813699999",
            "workflow_message": f"test {status}",
            "last_updated": "2026-12-01T08:00:00+00:00",
            "workflow_step": "test",
        },
        "replaces": replaces,
    }
    if notification is not None:
        body["notification"] = notification
    return body
