"""Helpers shared by the unit tests (imported relatively: `from .helpers import ...`)."""

from __future__ import annotations

import base64
import os

from fulfillment.workflow import StatusUpdate, WorkflowStatus

ORDER_ID = "order_01JABCDEF0123456789XYZABCD"
MEDUSA_URL = "http://medusa.test"
API_KEY = "sk_test_0123456789"


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def status_update(status: WorkflowStatus = WorkflowStatus.STARTED, **overrides: object) -> StatusUpdate:
    fields: dict[str, object] = {
        "order_id": ORDER_ID,
        "process_instance_key": "2251799813685249",
        "status": status,
        "message": f"order is {status}",
    }
    fields.update(overrides)
    return StatusUpdate.model_validate(fields)


def order_json(order_id: str = ORDER_ID, **overrides: object) -> dict[str, object]:
    """An order as `GET /admin/orders/{id}?fields=...` returns it (trimmed to what the client asks for)."""
    order: dict[str, object] = {
        "id": order_id,
        "display_id": 7,
        "email": "buyer@example.com",
        "currency_code": "eur",
        "status": "pending",
        "payment_status": "authorized",
        "total": 42.5,
        "metadata": None,
        "items": [
            {
                "id": "ordli_01",
                "variant_id": "variant_01",
                "product_id": "prod_01",
                "variant_sku": "SKU-1",
                "title": "Mug",
                "quantity": 2,
                "unit_price": 21.25,
                "total": 42.5,
            }
        ],
        "shipping_address": {"city": "Berlin"},
    }
    order.update(overrides)
    return order
