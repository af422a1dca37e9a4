from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from fulfillment.order_ids import is_order_id
from fulfillment.orders import (
    OrderCanceledData,
    OrderEvent,
    OrderPlacedData,
    OrderView,
    WebhookEnvelope,
)

from .helpers import ORDER_ID, placed_data

PlacedEvent = OrderEvent[OrderPlacedData]
CanceledEvent = OrderEvent[OrderCanceledData]


@pytest.mark.parametrize("good", [ORDER_ID, "order_1"])
def test_order_ids_accepted(good: str) -> None:
    assert is_order_id(good)


@pytest.mark.parametrize(
    "bad",
    ["", "order_", "cart_01ABC", "order_01/../x", "order_01 ABC", "ORDER_01", "order_" + "A" * 80, None, 7],
)
def test_order_ids_refused(bad: object) -> None:
    assert not is_order_id(bad)


def test_the_placed_event_carries_what_the_process_needs() -> None:
    event = PlacedEvent.model_validate({"type": "order.placed", "data": placed_data()})
    assert event.data.total == Decimal("42.5")
    assert event.data.workflow_status is None


def test_the_placed_event_takes_a_null_currency_as_the_plugin_may_send_it() -> None:
    event = PlacedEvent.model_validate({"type": "order.placed", "data": placed_data(currency_code=None)})
    assert event.data.currency_code == ""


def test_process_variables_carry_no_customer_data() -> None:
    data = placed_data(email="buyer@example.com", shipping_address={"city": "Berlin"})
    variables = PlacedEvent.model_validate({"type": "order.placed", "data": data}).data.process_variables()
    assert variables == {
        "order_id": ORDER_ID,
        "display_id": 7,
        "currency_code": "eur",
        "total": 42.5,
        "created_at": "2026-11-28T08:00:00+00:00",
    }


def test_order_placed_event_ignores_unknown_fields() -> None:
    event = PlacedEvent.model_validate(
        {"type": "order.placed", "occurred_at": "2026-11-28T08:00:00Z", "data": placed_data(x=1), "y": 2}
    )
    assert event.data.id == ORDER_ID


@pytest.mark.parametrize(
    "data",
    [
        {},
        None,
        placed_data(id="nope"),
        placed_data(id=5),
        {"id": ORDER_ID},
        {key: value for key, value in placed_data().items() if key != "workflow_status"},
        {key: value for key, value in placed_data().items() if key != "total"},
    ],
)
def test_order_placed_event_requires_the_data_the_plugin_read(data: object) -> None:
    with pytest.raises(ValidationError):
        PlacedEvent.model_validate({"type": "order.placed", "data": data})


def test_an_event_carries_when_it_happened_in_medusa_or_nothing() -> None:
    placed = PlacedEvent.model_validate(
        {"type": "order.placed", "occurred_at": "2026-11-28T08:00:00Z", "data": placed_data()}
    )
    canceled = CanceledEvent.model_validate(
        {"type": "order.canceled", "data": {"id": ORDER_ID, "status": "canceled"}}
    )
    assert placed.occurred_at is not None
    assert placed.occurred_at.isoformat() == "2026-11-28T08:00:00+00:00"
    assert canceled.occurred_at is None
    with pytest.raises(ValidationError):
        PlacedEvent.model_validate({"type": "order.placed", "occurred_at": "soon", "data": placed_data()})


def test_order_canceled_event_carries_the_status_the_plugin_read() -> None:
    event = CanceledEvent.model_validate(
        {"type": "order.canceled", "data": {"id": ORDER_ID, "status": "canceled"}}
    )
    assert (event.data.id, event.data.status) == (ORDER_ID, "canceled")
    with pytest.raises(ValidationError):
        CanceledEvent.model_validate({"type": "order.canceled", "data": {"id": ORDER_ID}})


def test_envelope_reads_only_the_type() -> None:
    assert (
        WebhookEnvelope.model_validate({"type": "customer.created", "data": [1]}).type == "customer.created"
    )
    with pytest.raises(ValidationError):
        WebhookEnvelope.model_validate({"data": {}})


def test_null_lists_mappings_and_texts_are_read_as_empty_ones() -> None:
    view = OrderView.model_validate(
        {
            "id": ORDER_ID,
            "status": None,
            "currency_code": None,
            "total": 0,
            "payment_status": "not_paid",
            "payment_collections": None,
            "items": [{"id": "ordli_1", "title": None, "quantity": 1, "variant": {"inventory_items": None}}],
            "reservations": None,
            "workflow": None,
        }
    )
    assert (view.status, view.currency_code, view.payment_collections, view.reservations) == ("", "", [], [])
    assert view.workflow == {}
    (item,) = view.items
    assert item.title == ""
    assert item.variant is not None
    assert item.variant.inventory_items == []
    # A value that is there is validated as before.
    with pytest.raises(ValidationError):
        OrderView.model_validate({**view.model_dump(), "items": "none"})
