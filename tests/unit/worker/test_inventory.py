"""reserve-inventory: reservations made at checkout must cover every stocked line item."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import respx
from pyzeebe.errors import BusinessError

from worker_job.inventory import Reservation, find_shortages, reserve_inventory, stocked_items
from worker_job.order_reads import OrderInventory
from worker_job.services import Services

from ..helpers import ORDER_ID
from .factories import ORDER_URL, RESERVATIONS_URL, StatusLog, make_context, reservation, stocked_item


def order(*items: dict[str, Any]) -> OrderInventory:
    return OrderInventory.model_validate({"id": ORDER_ID, "status": "pending", "items": list(items)})


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


def test_handler_checks_reservations_of_the_stocked_items_and_reports(
    http: respx.MockRouter, services: Services, status_log: StatusLog
) -> None:
    items = [stocked_item("ordli_a", 2), stocked_item("ordli_digital", 1, manage_inventory=False)]
    http.get(ORDER_URL).respond(200, json={"order": {"id": ORDER_ID, "items": items}})
    query = http.get(RESERVATIONS_URL).respond(
        200, json={"reservations": [reservation("ordli_a", 2)], "count": 1, "offset": 0, "limit": 100}
    )

    result = reserve_inventory(make_context("reserve-inventory"), services)

    assert result == {"stocked_line_items": 1}
    assert query.calls.last.request.url.params.get_list("line_item_id") == ["ordli_a"]
    assert status_log.statuses == ["inventory_reserved"]
    assert status_log.bodies[0]["message"] == "reservations cover 1 stocked line item(s)"


def test_handler_throws_stock_missing_without_reporting(
    http: respx.MockRouter, services: Services, status_log: StatusLog
) -> None:
    http.get(ORDER_URL).respond(200, json={"order": {"id": ORDER_ID, "items": [stocked_item("ordli_a", 2)]}})
    http.get(RESERVATIONS_URL).respond(200, json={"reservations": [], "count": 0})

    with pytest.raises(BusinessError) as raised:
        reserve_inventory(make_context("reserve-inventory"), services)

    assert raised.value.error_code == "STOCK_MISSING"
    assert "0 of 2 reserved" in str(raised.value)
    assert status_log.statuses == []


def test_handler_never_creates_reservations(
    http: respx.MockRouter, services: Services, status_log: StatusLog
) -> None:
    http.get(ORDER_URL).respond(200, json={"order": {"id": ORDER_ID, "items": [stocked_item("ordli_a", 1)]}})
    http.get(RESERVATIONS_URL).respond(200, json={"reservations": [reservation("ordli_a", 1)], "count": 1})
    creations = http.post(RESERVATIONS_URL).respond(200, json={})

    reserve_inventory(make_context("reserve-inventory"), services)

    assert not creations.called
    assert all(call.request.method == "GET" for call in http.calls if "/admin/" in call.request.url.path)


def test_an_order_without_stocked_items_asks_medusa_for_no_reservations(
    http: respx.MockRouter, services: Services, status_log: StatusLog
) -> None:
    digital = stocked_item("ordli_d", 1, manage_inventory=False)
    http.get(ORDER_URL).respond(200, json={"order": {"id": ORDER_ID, "items": [digital]}})
    query = http.get(RESERVATIONS_URL).respond(200, json={"reservations": [], "count": 0})

    reserve_inventory(make_context("reserve-inventory"), services)

    assert not query.called
    assert status_log.bodies[0]["message"] == "no line item needs reserved stock"
