from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from fulfillment.orders import Order, OrderPlacedEvent, WebhookEnvelope, is_order_id

from .helpers import ORDER_ID, order_json


@pytest.mark.parametrize("good", [ORDER_ID, "order_1"])
def test_order_ids_accepted(good: str) -> None:
    assert is_order_id(good)


@pytest.mark.parametrize(
    "bad",
    ["", "order_", "cart_01ABC", "order_01/../x", "order_01 ABC", "ORDER_01", "order_" + "A" * 80, None, 7],
)
def test_order_ids_refused(bad: object) -> None:
    assert not is_order_id(bad)


def test_order_snapshot_from_admin_api() -> None:
    order = Order.model_validate(order_json())
    assert order.id == ORDER_ID
    assert order.metadata == {}
    assert order.total == Decimal("42.5")
    assert order.items[0].variant_sku == "SKU-1"
    assert order.items[0].quantity == 2


def test_process_variables_carry_no_addresses() -> None:
    variables = Order.model_validate(order_json()).process_variables()
    assert variables == {
        "order_id": ORDER_ID,
        "display_id": 7,
        "email": "buyer@example.com",
        "currency_code": "eur",
        "total": 42.5,
    }


def test_order_placed_event_ignores_unknown_fields() -> None:
    event = OrderPlacedEvent.model_validate(
        {
            "type": "order.placed",
            "timestamp": "2026-11-28T08:00:00Z",
            "data": {"id": ORDER_ID, "x": 1},
            "y": 2,
        }
    )
    assert event.order_id == ORDER_ID


@pytest.mark.parametrize("data", [{}, {"id": "nope"}, {"id": 5}, None])
def test_order_placed_event_requires_an_order_id(data: object) -> None:
    with pytest.raises(ValidationError):
        OrderPlacedEvent.model_validate({"type": "order.placed", "data": data})


def test_envelope_reads_only_the_type() -> None:
    assert (
        WebhookEnvelope.model_validate({"type": "customer.created", "data": [1]}).type == "customer.created"
    )
    with pytest.raises(ValidationError):
        WebhookEnvelope.model_validate({"data": {}})
