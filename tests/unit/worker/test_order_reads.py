"""The worker's one order read: every step's view comes from one answer, which later steps reuse briefly."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from fulfillment.medusa import MedusaClient
from worker_job.order_reads import REUSE_CAPACITY, OrderReader

from ..helpers import MEDUSA_URL, ORDER_ID
from .conftest import PluginServer
from .factories import order_view


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reader(clock: Clock, worker_secret: str) -> Iterator[OrderReader]:
    with MedusaClient(MEDUSA_URL, worker_secret, max_attempts=1) as client:
        yield OrderReader(client, reuse_seconds=60, clock=clock)


def view() -> httpx.Response:
    return httpx.Response(200, json={"order": order_view()})


def test_one_signed_view_answers_what_every_step_needs(plugin: PluginServer, reader: OrderReader) -> None:
    route = plugin("view", view())

    order = reader.view_order(ORDER_ID)

    assert route.bodies == [{"action": "view", "order_id": ORDER_ID}]
    assert order.payment_status == "authorized"
    assert [item.id for item in order.items] == ["ordli_01"]
    assert [reservation.line_item_id for reservation in order.reservations] == ["ordli_01"]


def test_the_later_steps_reuse_the_payment_steps_answer(plugin: PluginServer, reader: OrderReader) -> None:
    route = plugin("view", view())

    first = reader.view_order(ORDER_ID)
    later = reader.recent_view(ORDER_ID)

    assert route.calls == 1
    assert later is first


def test_the_payment_check_always_reads_afresh(plugin: PluginServer, reader: OrderReader) -> None:
    route = plugin("view", view())

    reader.view_order(ORDER_ID)
    reader.view_order(ORDER_ID)

    assert route.calls == 2


def test_an_answer_older_than_the_reuse_window_is_read_again(
    plugin: PluginServer, reader: OrderReader, clock: Clock
) -> None:
    route = plugin("view", view())
    reader.view_order(ORDER_ID)

    clock.now += 60
    reader.recent_view(ORDER_ID)

    assert route.calls == 2


def test_a_step_without_an_earlier_answer_reads_the_order(plugin: PluginServer, reader: OrderReader) -> None:
    route = plugin("view", view())

    reader.recent_view(ORDER_ID)
    reader.recent_view(ORDER_ID)

    assert route.calls == 1


def test_the_kept_answers_are_bounded(http: respx.MockRouter, reader: OrderReader) -> None:
    first = f"{ORDER_ID}first"
    routes = {}
    for order_id in [first] + [f"{ORDER_ID}n{index}" for index in range(REUSE_CAPACITY)]:
        url = f"{MEDUSA_URL}/fulfillment-workflow/orders/{order_id}/view"
        routes[order_id] = http.post(url).respond(200, json={"order": order_view(id=order_id)})
        reader.view_order(order_id)

    reader.recent_view(first)

    assert routes[first].call_count == 2
