"""Builders for the worker's unit tests: jobs, the plugin's answers, and checking receivers for the plugin's
signed routes and the status function."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pyzeebe import Job

from fulfillment.signatures import verify
from worker_job.job_context import JobContext

from ..helpers import MEDUSA_URL, ORDER_ID

STATUS_URL = "https://status.test/status_update"
PROCESS_INSTANCE_KEY = 2251799813685301


def make_job(
    job_type: str = "verify-payment",
    retries: int = 5,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> Job:
    return Job(
        key=2251799813685400,
        type=job_type,
        process_instance_key=PROCESS_INSTANCE_KEY,
        bpmn_process_id="order-fulfillment",
        process_definition_version=1,
        process_definition_key=2251799813685249,
        element_id="VerifyPayment",
        element_instance_key=2251799813685402,
        custom_headers=headers or {},
        worker="test-worker",
        retries=retries,
        deadline=0,
        variables={"order_id": ORDER_ID, **variables},
    )


def make_context(
    job_type: str = "verify-payment", headers: dict[str, str] | None = None, **variables: Any
) -> JobContext:
    return JobContext.from_job(make_job(job_type, headers=headers, **variables))


class StatusLog:
    """What the status function received, checked against the signing secret. It answers as the status
    function does with the plugin behind it: a mail goes out at most once per order and template."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.bodies: list[dict[str, Any]] = []
        self.mails: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        verify([self.secret], dict(request.headers), request.content)
        body = json.loads(request.content)
        self.bodies.append(body)
        answer: dict[str, Any] = {"applied": True, "metadata": {"workflow_status": body["status"]}}
        if "notification" in body:
            repeated = any(mail["template"] == body["notification"]["template"] for mail in self.mails)
            if not repeated:
                self.mails.append(body["notification"])
            answer["notification"] = {"sent": not repeated, "reason": "duplicate" if repeated else None}
        return httpx.Response(200, json=answer)

    @property
    def statuses(self) -> list[str]:
        return [body["status"] for body in self.bodies]


class PluginRoute:
    """One of the plugin's signed routes (view, cancel) as respx serves it: it checks the signature with the
    worker's secret and that the body names the route and the order, records the body, and answers with the
    next of `answers` (the last one again when they run out)."""

    def __init__(self, secret: str, action: str, *answers: httpx.Response) -> None:
        self.secret = secret
        self.action = action
        self.answers = list(answers)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        verify([self.secret], dict(request.headers), request.content)
        body = json.loads(request.content)
        assert (body["action"], body["order_id"]) == (self.action, ORDER_ID), body
        assert request.url.path == f"/fulfillment-workflow/orders/{ORDER_ID}/{self.action}"
        self.bodies.append(body)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    @property
    def calls(self) -> int:
        return len(self.bodies)


def order_view(**overrides: Any) -> dict[str, Any]:
    """The `order` of the plugin's view answer: an authorized order of one stocked item, reserved."""
    view: dict[str, Any] = {
        "id": ORDER_ID,
        "display_id": 7,
        "status": "pending",
        "currency_code": "eur",
        "total": 42.5,
        "created_at": "2026-11-28T08:00:00.000Z",
        "payment_status": "authorized",
        "payment_collections": [
            {
                "id": "pay_col_1",
                "status": "authorized",
                "amount": 42.5,
                "authorized_amount": 42.5,
                "captured_amount": 0,
                "refunded_amount": 0,
            }
        ],
        "items": [stocked_item("ordli_01", 2)],
        "reservations": [reservation("ordli_01", 2)],
        "workflow": {},
    }
    view.update(overrides)
    return view


def payment_order(
    payment_status: str = "authorized",
    total: float = 42.5,
    collections: list[dict[str, Any]] | None = None,
    status: str = "pending",
) -> dict[str, Any]:
    """The plugin's view answer for a payment case."""
    if collections is None:
        collections = [
            {
                "id": "pay_col_1",
                "status": "authorized",
                "amount": total,
                "authorized_amount": total,
                "captured_amount": 0,
            }
        ]
    return {
        "order": order_view(
            status=status, total=total, payment_status=payment_status, payment_collections=collections
        )
    }


def inventory_order(items: list[dict[str, Any]], reservations: list[dict[str, Any]]) -> dict[str, Any]:
    """The plugin's view answer for a stock case."""
    return {"order": order_view(items=items, reservations=reservations)}


def cancel_answer(
    outcome: str = "canceled", reason: str | None = None, captured: float = 0, refunded: float = 0
) -> httpx.Response:
    return httpx.Response(
        200,
        json={"outcome": outcome, "reason": reason, "captured_amount": captured, "refunded_amount": refunded},
    )


def stocked_item(
    item_id: str = "ordli_01",
    quantity: int = 2,
    *,
    manage_inventory: bool | None = True,
    inventory_items: list[dict[str, Any]] | None = None,
    fulfilled: int = 0,
    variant: bool = True,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "title": f"Item {item_id}",
        "variant_id": f"variant_{item_id}",
        "quantity": quantity,
        "detail": {"fulfilled_quantity": fulfilled},
    }
    if variant:
        item["variant"] = {
            "id": f"variant_{item_id}",
            "manage_inventory": manage_inventory,
            "inventory_items": inventory_items
            if inventory_items is not None
            else [{"inventory_item_id": f"iitem_{item_id}", "required_quantity": 1}],
        }
    return item


def reservation(line_item_id: str, quantity: int, inventory_item_id: str | None = None) -> dict[str, Any]:
    return {
        "id": f"res_{line_item_id}_{inventory_item_id}",
        "line_item_id": line_item_id,
        "inventory_item_id": inventory_item_id or f"iitem_{line_item_id}",
        "location_id": "sloc_1",
        "quantity": quantity,
    }


def plugin_url(action: str) -> str:
    return f"{MEDUSA_URL}/fulfillment-workflow/orders/{ORDER_ID}/{action}"


VIEW_URL = plugin_url("view")
CANCEL_URL = plugin_url("cancel")
