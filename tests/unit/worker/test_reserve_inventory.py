"""reserve-inventory: reservations made at checkout must cover every stocked line item."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from pyzeebe.errors import BusinessError

from fulfillment.orders import OrderView, Reservation
from worker_job.reserve_inventory import find_shortages, reserve_inventory, stocked_items
from worker_job.services import Services

from ..helpers import ORDER_ID
from .conftest import PluginServer
from .factories import StatusLog, inventory_order, make_context, reservation, stocked_item


def order(*items: dict[str, Any]) -> OrderView:
    return OrderView.model_validate(inventory_order(list(items), [])["order"])


def view(items: list[dict[str, Any]], reservations: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(200, json=inventory_order(items, reservations))


def shortages(items: list[dict[str, Any]], reservations: list[dict[str, Any]]) -> list[str]:
    found = find_shortages(
        stocked_items(order(*items)), [Reservation.model_validate(r) for r in reservations]
    )
    return [shortage.describe() for shortage in found]


def test_reservations_covering_every_item_leave_no_shortage() -> None:
    items = [stocked_item("ordli_a", 2), stocked_item("ordli_b", 1)]

    assert shortages(items, [reservation("ordli_a", 2), reservation("ordli_b", 1)]) == []


def test_a_missing_or_short_reservation_is_a_shortage() -> None:
    items = [stocked_item("ordli_a", 2), stocked_item("ordli_b", 1)]

    assert shortages(items, [reservation("ordli_a", 1)]) == [
        "Item ordli_a (inventory item iitem_ordli_a): 1 of 2 reserved",
        "Item ordli_b (inventory item iitem_ordli_b): 0 of 1 reserved",
    ]


def test_a_kit_needs_each_inventory_item_times_its_required_quantity() -> None:
    kit = stocked_item(
        "ordli_kit",
        2,
        inventory_items=[
            {"inventory_item_id": "iitem_board", "required_quantity": 1},
            {"inventory_item_id": "iitem_screw", "required_quantity": 4},
        ],
    )

    covered = [reservation("ordli_kit", 2, "iitem_board"), reservation("ordli_kit", 8, "iitem_screw")]
    short = [reservation("ordli_kit", 2, "iitem_board"), reservation("ordli_kit", 7, "iitem_screw")]

    assert shortages([kit], covered) == []
    assert shortages([kit], short) == ["Item ordli_kit (inventory item iitem_screw): 7 of 8 reserved"]


def test_several_reservations_of_one_item_add_up() -> None:
    item = stocked_item("ordli_a", 3)

    assert shortages([item], [reservation("ordli_a", 1), reservation("ordli_a", 2)]) == []


def test_reservations_of_other_line_items_do_not_count() -> None:
    item = stocked_item("ordli_a", 1)

    assert shortages([item], [reservation("ordli_other", 5, "iitem_ordli_a")]) != []


def test_items_without_managed_inventory_need_no_reservation() -> None:
    unmanaged = stocked_item("ordli_digital", 1, manage_inventory=False)
    custom = {"id": "ordli_custom", "title": "Gift wrap", "variant_id": None, "quantity": 1}

    assert stocked_items(order(unmanaged, custom)) == []


def test_an_item_whose_variant_was_not_returned_still_needs_a_reservation() -> None:
    item = stocked_item("ordli_a", 2, variant=False)

    assert shortages([item], []) == ["Item ordli_a: 0 of 2 reserved"]
    assert shortages([item], [reservation("ordli_a", 2, "iitem_whatever")]) == []


def test_fulfilled_units_need_no_reservation_any_more() -> None:
    partly = stocked_item("ordli_a", 3, fulfilled=2)
    fully = stocked_item("ordli_b", 1, fulfilled=1)

    assert [item.id for item in stocked_items(order(partly, fully))] == ["ordli_a"]
    assert shortages([partly], [reservation("ordli_a", 1)]) == []


def test_quantities_are_decimals() -> None:
    parsed = Reservation.model_validate(reservation("ordli_a", 2))

    assert parsed.quantity == Decimal(2)


def test_handler_checks_the_reservations_of_the_view_and_reports(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    items = [stocked_item("ordli_a", 2), stocked_item("ordli_digital", 1, manage_inventory=False)]
    plugin("view", view(items, [reservation("ordli_a", 2)]))

    result = reserve_inventory(make_context("reserve-inventory"), services)

    assert result == {"stocked_line_items": 1}
    assert status_log.statuses == ["inventory_reserved"]
    assert status_log.bodies[0]["message"] == "reservations cover 1 stocked line item(s)"
    medusa_calls = [call.request.url.path for call in http.calls if call.request.url.host == "medusa.test"]
    assert medusa_calls == [f"/fulfillment-workflow/orders/{ORDER_ID}/view"], "no other read"


def test_handler_reuses_the_view_the_payment_step_read(
    plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    route = plugin("view", view([stocked_item("ordli_a", 1)], [reservation("ordli_a", 1)]))
    services.orders.view_order(ORDER_ID)

    reserve_inventory(make_context("reserve-inventory"), services)

    assert route.calls == 1


def test_handler_throws_stock_missing_without_reporting(
    plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("view", view([stocked_item("ordli_a", 2)], []))

    with pytest.raises(BusinessError) as raised:
        reserve_inventory(make_context("reserve-inventory"), services)

    assert raised.value.error_code == "STOCK_MISSING"
    assert "0 of 2 reserved" in str(raised.value)
    assert status_log.statuses == []


def test_an_order_canceled_meanwhile_ends_as_canceled(plugin: PluginServer, services: Services) -> None:
    canceled = inventory_order([stocked_item("ordli_a", 1)], [])
    canceled["order"]["status"] = "canceled"
    plugin("view", httpx.Response(200, json=canceled))

    with pytest.raises(BusinessError) as raised:
        reserve_inventory(make_context("reserve-inventory"), services)

    assert raised.value.error_code == "ORDER_CANCELED"


def test_an_order_without_stocked_items_needs_no_reservation(
    plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("view", view([stocked_item("ordli_d", 1, manage_inventory=False)], []))

    reserve_inventory(make_context("reserve-inventory"), services)

    assert status_log.bodies[0]["message"] == "no line item needs reserved stock"
