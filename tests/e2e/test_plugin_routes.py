"""The plugin's signed routes outside /admin in a real Medusa (docs/contracts.md, "Plugin routes the cloud
side calls"): who may call them, what a replayed body does, and what view, cancel and status answer and
change, down to the customer's mail file written by the demo shop's Notification Module provider.

Every order here is placed while the `guarded_webhook` fixture holds, so no process touches it: whatever
changes on it is the test's own call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.shop import PlacedOrder
from devstack.stack import Stack, new_webhook_secret
from fulfillment.signatures import sign_headers

from .plugin_support import ROUTE_CALLER, PluginRoutes, Route, workflow_write
from .support import GuardedWebhook

pytestmark = pytest.mark.e2e

ROUTES: tuple[Route, ...] = ("view", "cancel", "status")
OTHER_CALLER = {"worker": "status", "status": "worker"}
MEDUSA_REFUSAL = "All fulfillments must be canceled before canceling an order"


@pytest.fixture(scope="module")
def routes(stack: Stack, guarded_webhook: GuardedWebhook) -> Iterator[PluginRoutes]:
    routes = PluginRoutes(stack)
    yield routes
    routes.close()


@pytest.fixture(scope="module")
def untouched_order(routes: PluginRoutes) -> PlacedOrder:
    """One order for the refused calls: each test checks it is still as placed."""
    return routes.place_unstarted_order()


def effective_body(route: Route, order_id: str) -> dict[str, Any]:
    """A body that would change the order if it were accepted."""
    if route == "status":
        mail = {"template": "order-confirmation", "data": {}}
        return workflow_write(order_id, "payment_verified", [None], notification=mail)
    return {"action": route, "order_id": order_id}


def assert_unchanged(routes: PluginRoutes, order_id: str) -> None:
    order = routes.order(order_id)
    assert order["status"] == "pending", order
    assert not any(key.startswith("workflow_") for key in order.get("metadata") or {}), order["metadata"]
    assert routes.mails(order_id) == []


# Who may call ----------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("signature", ["missing", "bad", "other_caller"])
def test_a_call_without_the_routes_own_signature_is_refused_and_changes_nothing(
    routes: PluginRoutes, untouched_order: PlacedOrder, route: Route, signature: str
) -> None:
    order_id = untouched_order.id
    body = effective_body(route, order_id)
    if signature == "missing":
        response = routes.post(route, order_id, body, headers={})
    elif signature == "bad":
        response = routes.post(route, order_id, body, signed_by=new_webhook_secret())
    else:
        response = routes.post(route, order_id, body, signed_by=OTHER_CALLER[ROUTE_CALLER[route]])

    assert response.status_code == 401, response.text
    assert set(response.json()) == {"message"}
    assert_unchanged(routes, order_id)


@pytest.mark.parametrize("route", ROUTES)
def test_a_signature_older_than_five_minutes_is_refused(
    routes: PluginRoutes, untouched_order: PlacedOrder, route: Route
) -> None:
    body = effective_body(route, untouched_order.id)
    stale = sign_headers(
        routes.secrets[ROUTE_CALLER[route]],
        json.dumps(body).encode(),
        timestamp=datetime.now(UTC) - timedelta(minutes=6),
    )

    response = routes.post(route, untouched_order.id, body, headers=stale)

    assert response.status_code == 401, response.text
    assert_unchanged(routes, untouched_order.id)


# Replays -------------------------------------------------------------------------------------
def test_a_signed_body_replayed_against_another_route_is_refused(
    routes: PluginRoutes, untouched_order: PlacedOrder
) -> None:
    """The worker's signed `view` body sent to `cancel` (same caller, valid signature): 400, not canceled."""
    view_body = {"action": "view", "order_id": untouched_order.id}

    response = routes.post("cancel", untouched_order.id, view_body)

    assert response.status_code == 400, response.text
    assert "message" in response.json()
    assert_unchanged(routes, untouched_order.id)


@pytest.mark.parametrize("route", ROUTES)
def test_a_signed_body_replayed_against_another_order_is_refused(
    routes: PluginRoutes, untouched_order: PlacedOrder, route: Route
) -> None:
    other = routes.place_unstarted_order()

    response = routes.post(route, other.id, effective_body(route, untouched_order.id))

    assert response.status_code == 400, response.text
    assert_unchanged(routes, other.id)
    assert_unchanged(routes, untouched_order.id)


def test_an_unknown_order_is_404(routes: PluginRoutes) -> None:
    response = routes.post("view", "order_01NOSUCHORDER0000000000000")

    assert response.status_code == 404, response.text
    assert "message" in response.json()


# view ----------------------------------------------------------------------------------------
def test_view_answers_the_order_as_the_worker_needs_it_and_no_customer_data(routes: PluginRoutes) -> None:
    placed = routes.place_unstarted_order()

    response = routes.post("view", placed.id)

    assert response.status_code == 200, response.text
    order = response.json()["order"]
    assert set(order) == {
        "id",
        "display_id",
        "status",
        "currency_code",
        "total",
        "created_at",
        "payment_status",
        "payment_collections",
        "items",
        "reservations",
        "workflow",
    }
    assert (order["id"], order["display_id"], order["status"]) == (placed.id, placed.display_id, "pending")
    assert (order["currency_code"], order["total"], order["payment_status"]) == (
        "eur",
        placed.total,
        "authorized",
    )
    (collection,) = order["payment_collections"]
    assert set(collection) == {
        "id",
        "status",
        "amount",
        "authorized_amount",
        "captured_amount",
    }
    assert (collection["authorized_amount"], collection["captured_amount"]) == (placed.total, 0)
    (item,) = order["items"]
    assert set(item) == {"id", "title", "variant_id", "variant_sku", "quantity", "detail", "variant"}
    assert item["detail"] == {"fulfilled_quantity": 0}
    assert item["variant"]["manage_inventory"] is True
    (link,) = item["variant"]["inventory_items"]
    assert set(link) == {"inventory_item_id", "required_quantity"}
    (reservation,) = order["reservations"]
    assert reservation["line_item_id"] == item["id"]
    assert reservation["inventory_item_id"] == link["inventory_item_id"]
    assert reservation["quantity"] == 1
    assert order["workflow"] == {}
    text = response.text.lower()
    assert placed.email not in text
    assert "lovelace" not in text
    assert "address" not in text


# cancel --------------------------------------------------------------------------------------
def test_cancel_cancels_then_answers_already_canceled(routes: PluginRoutes) -> None:
    placed = routes.place_unstarted_order()

    first = routes.call("cancel", placed.id)
    again = routes.call("cancel", placed.id)

    nothing = {"reason": None, "captured_amount": 0, "refunded_amount": 0}
    assert first == {"outcome": "canceled", **nothing}
    assert again == {"outcome": "already_canceled", **nothing}
    order = routes.order(placed.id)
    assert order["status"] == "canceled"
    assert routes.call("view", placed.id)["order"]["reservations"] == [], "Medusa's cancel released the stock"


def test_cancel_refunds_a_captured_payment(routes: PluginRoutes) -> None:
    placed = routes.place_unstarted_order()
    routes.capture_payment(placed.id)

    answer = routes.call("cancel", placed.id)

    assert answer == {
        "outcome": "canceled",
        "reason": None,
        "captured_amount": placed.total,
        "refunded_amount": placed.total,
    }


def test_cancel_of_an_order_with_a_fulfillment_is_refused_with_medusas_reason(routes: PluginRoutes) -> None:
    placed = routes.place_unstarted_order()
    routes.fulfill(placed.id)

    answer = routes.call("cancel", placed.id)

    assert answer == {
        "outcome": "refused",
        "reason": MEDUSA_REFUSAL,
        "captured_amount": 0,
        "refunded_amount": 0,
    }
    assert routes.order(placed.id)["status"] != "canceled"


# status and its mail -------------------------------------------------------------------------
def test_status_with_a_confirmation_writes_the_mail_once(routes: PluginRoutes) -> None:
    placed = routes.place_unstarted_order()
    confirmation = {"template": "order-confirmation", "data": {}}
    routes.call("status", placed.id, workflow_write(placed.id, "inventory_reserved", [None]))
    completed = workflow_write(
        placed.id, "completed", [None, "inventory_reserved"], notification=confirmation
    )

    first = routes.call("status", placed.id, completed)
    written = routes.mail(placed.id, "order-confirmation")
    again = routes.call("status", placed.id, completed)

    assert (first["applied"], first["notification"]) == (True, {"sent": True, "reason": None})
    assert first["metadata"]["workflow_status"] == "completed"
    assert "workflow_mail_order_confirmation" in first["metadata"]
    assert (again["applied"], again["reason"]) == (False, "stale")
    assert again["notification"] == {"sent": False, "reason": "duplicate"}
    assert [path.name for path in routes.mails(placed.id)] == [f"{placed.id}.order-confirmation.json"]
    assert routes.mail(placed.id, "order-confirmation") == written, "the first mail is kept as it was"
    assert written["to"] == placed.email
    assert written["channel"] == "medusa"
    assert written["subject"] == f"Your order #{placed.display_id} is confirmed"
    assert "1 x Fulfillment demo T-shirt" in written["body"]
    assert f"Total: {placed.total:.2f} EUR" in written["body"]


def test_a_mail_is_not_sent_for_a_status_that_was_not_recorded(routes: PluginRoutes) -> None:
    placed = routes.place_unstarted_order()
    routes.call("status", placed.id, workflow_write(placed.id, "payment_verified", [None]))
    confirmation = {"template": "order-confirmation", "data": {}}

    stale = routes.call(
        "status", placed.id, workflow_write(placed.id, "completed", ["inventory_reserved"], confirmation)
    )

    assert (stale["applied"], stale["reason"]) == (False, "stale")
    assert stale["notification"] == {"sent": False, "reason": "not_recorded"}
    assert routes.mails(placed.id) == []


def test_a_canceled_order_takes_no_completion_and_sends_no_confirmation(routes: PluginRoutes) -> None:
    placed = routes.place_unstarted_order()
    routes.call("cancel", placed.id)
    confirmation = {"template": "order-confirmation", "data": {}}

    answer = routes.call("status", placed.id, workflow_write(placed.id, "completed", [None], confirmation))

    assert (answer["applied"], answer["reason"]) == (False, "order_canceled")
    assert answer["notification"] == {"sent": False, "reason": "not_recorded"}
    assert routes.mails(placed.id) == []


@pytest.mark.parametrize(
    ("captured", "words"),
    [(False, "No money was taken"), (True, "The 30.00 EUR you paid has been refunded in full.")],
    ids=["nothing-taken", "refunded-in-full"],
)
def test_the_cancel_mail_says_what_happened_to_the_money(
    routes: PluginRoutes, captured: bool, words: str
) -> None:
    placed = routes.place_unstarted_order()
    assert placed.total == 30, "the words below name the seeded order's total"
    if captured:
        routes.capture_payment(placed.id)
    assert routes.call("cancel", placed.id)["outcome"] == "canceled"
    stock = {"template": "order-canceled-stock", "data": {"reason": "The T-shirt is sold out."}}

    answer = routes.call("status", placed.id, workflow_write(placed.id, "out_of_stock", [None], stock))

    assert answer["applied"] is True
    assert answer["notification"] == {"sent": True, "reason": None}
    mail = routes.mail(placed.id, "order-canceled-stock")
    assert mail["subject"] == f"Your order #{placed.display_id} has been canceled"
    assert "Reason: The T-shirt is sold out." in mail["body"]
    assert words in mail["body"]


def test_the_mail_says_when_only_part_of_the_money_came_back(routes: PluginRoutes) -> None:
    """Staff refunded 10 of the 30 captured (no cancel): the failure mail says so."""
    placed = routes.place_unstarted_order()
    routes.capture_payment(placed.id)
    order = routes.admin.order(placed.id, fields="id,*payment_collections.payments")
    (payment,) = order["payment_collections"][0]["payments"]
    routes.admin.post(f"/admin/payments/{payment['id']}/refund", {"amount": 10})
    mail = {"template": "order-canceled-payment", "data": {}}

    routes.call("status", placed.id, workflow_write(placed.id, "payment_failed", [None], mail))

    body = routes.mail(placed.id, "order-canceled-payment")["body"]
    assert "Of the 30.00 EUR you paid, 10.00 EUR has been refunded" in body
    assert "Reason: We could not confirm your payment." in body
