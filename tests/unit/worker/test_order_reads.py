"""The worker's one order read: every step's view comes from one answer, which later steps reuse briefly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx

from worker_job.order_reads import ORDER_READ_FIELDS, REUSE_CAPACITY, OrderReader

from ..helpers import API_KEY, MEDUSA_URL, ORDER_ID
from .factories import ORDER_URL, payment_order, stocked_item


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reader(clock: Clock) -> Iterator[OrderReader]:
    with OrderReader(MEDUSA_URL, API_KEY, max_attempts=1, reuse_seconds=60, clock=clock) as reader:
        yield reader


def whole_order(order_id: str = ORDER_ID) -> dict[str, Any]:
    """The answer to ORDER_READ_FIELDS: payment, items with variants, and what a notification names."""
    order = payment_order()["order"]
    return {
        "order": {
            **order,
            "id": order_id,
            "email": "ada@example.com",
            "metadata": None,
            "items": [stocked_item("ordli_a", 2)],
        }
    }


def test_one_read_asks_for_what_every_step_needs(http: respx.MockRouter, reader: OrderReader) -> None:
    medusa = http.get(ORDER_URL).respond(200, json=whole_order())

    reader.get_order_payment(ORDER_ID)

    fields = medusa.calls.last.request.url.params["fields"]
    assert fields == ORDER_READ_FIELDS
    for needed in ("*payment_collections", "*items.variant.inventory_items", "+email", "display_id"):
        assert needed in fields.split(",")


def test_the_later_steps_reuse_the_payment_steps_answer(http: respx.MockRouter, reader: OrderReader) -> None:
    medusa = http.get(ORDER_URL).respond(200, json=whole_order())

    payment = reader.get_order_payment(ORDER_ID)
    inventory = reader.get_order_inventory(ORDER_ID)
    order = reader.get_order(ORDER_ID)

    assert medusa.call_count == 1
    assert payment.payment_status == "authorized"
    assert [item.id for item in inventory.items] == ["ordli_a"]
    assert order.email == "ada@example.com"
    assert order.display_id == 7


def test_the_payment_check_always_reads_afresh(http: respx.MockRouter, reader: OrderReader) -> None:
    medusa = http.get(ORDER_URL).respond(200, json=whole_order())

    reader.get_order_payment(ORDER_ID)
    reader.get_order_payment(ORDER_ID)

    assert medusa.call_count == 2


def test_an_answer_older_than_the_reuse_window_is_read_again(
    http: respx.MockRouter, reader: OrderReader, clock: Clock
) -> None:
    medusa = http.get(ORDER_URL).respond(200, json=whole_order())
    reader.get_order_payment(ORDER_ID)

    clock.now += 60
    reader.get_order_inventory(ORDER_ID)

    assert medusa.call_count == 2


def test_a_step_without_an_earlier_answer_reads_the_order(
    http: respx.MockRouter, reader: OrderReader
) -> None:
    medusa = http.get(ORDER_URL).respond(200, json=whole_order())

    reader.get_order(ORDER_ID)
    reader.get_order_inventory(ORDER_ID)

    assert medusa.call_count == 1


def test_the_kept_answers_are_bounded(http: respx.MockRouter, reader: OrderReader) -> None:
    first = f"{ORDER_ID}first"
    routes = {}
    for order_id in [first] + [f"{ORDER_ID}n{index}" for index in range(REUSE_CAPACITY)]:
        url = f"{MEDUSA_URL}/admin/orders/{order_id}"
        routes[order_id] = http.get(url).respond(200, json=whole_order(order_id))
        reader.get_order_payment(order_id)

    reader.get_order(first)

    assert routes[first].call_count == 2
