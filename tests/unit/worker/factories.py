"""Builders for the worker's unit tests: jobs, Medusa answers, and a checking status receiver."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pyzeebe import Job

from fulfillment.signatures import verify
from worker_job.job_context import JobContext

from ..helpers import MEDUSA_URL, ORDER_ID, order_json

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
    """What the status function received, checked against the signing secret."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        verify([self.secret], dict(request.headers), request.content)
        body = json.loads(request.content)
        self.bodies.append(body)
        return httpx.Response(
            200, json={"order_id": body["order_id"], "applied": True, "workflow_status": body["status"]}
        )

    @property
    def statuses(self) -> list[str]:
        return [body["status"] for body in self.bodies]


def payment_order(
    payment_status: str = "authorized",
    total: float = 42.5,
    collections: list[dict[str, Any]] | None = None,
    status: str = "pending",
) -> dict[str, Any]:
    """`GET /admin/orders/{id}?fields=...,*payment_collections` as Medusa answers it."""
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
        "order": {
            "id": ORDER_ID,
            "display_id": 7,
            "status": status,
            "currency_code": "eur",
            "total": total,
            "payment_status": payment_status,
            "payment_collections": collections,
        }
    }


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


def shop_order(**overrides: Any) -> dict[str, Any]:
    """`GET /admin/orders/{id}` with the shared snapshot's fields (`fulfillment.medusa.ORDER_FIELDS`)."""
    return {"order": order_json(**overrides)}


ORDER_URL = f"{MEDUSA_URL}/admin/orders/{ORDER_ID}"
RESERVATIONS_URL = f"{MEDUSA_URL}/admin/reservations"
