"""A missing stock or payment becomes a business outcome only when a second read, a settle interval later,
agrees: Medusa's cancel shows an open order without its reservations or its payment for a moment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pyzeebe.errors import BusinessError

from fulfillment.medusa import MedusaClient
from fulfillment.workflow import BpmnErrorCode
from worker_job.confirm import OrderBeingCanceled
from worker_job.order_reads import OrderReader
from worker_job.reserve_inventory import reserve_inventory
from worker_job.services import Services
from worker_job.status_reporter import StatusReporter
from worker_job.verify_payment import verify_payment

from ..helpers import MEDUSA_URL
from .conftest import PluginServer
from .factories import STATUS_URL, StatusLog, make_context, order_view, reservation, stocked_item

SETTLE_SECONDS = 2.5
OPEN = "pending"
CANCELED_COLLECTION = {
    "id": "pay_col_1",
    "status": "canceled",
    "amount": 42.5,
    "authorized_amount": 42.5,
    "captured_amount": 0,
}


class Waits:
    """Records each settle wait together with how many view reads `reads` counted before it."""

    def __init__(self) -> None:
        self.reads: Callable[[], int] = lambda: 0
        self.waits: list[tuple[float, int]] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append((seconds, self.reads()))


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def settling(
    status_log: StatusLog, status_secret: str, worker_secret: str, waits: Waits
) -> Iterator[Services]:
    medusa = MedusaClient(MEDUSA_URL, worker_secret, max_attempts=1)
    reporter = StatusReporter(STATUS_URL, status_secret)
    orders = OrderReader(medusa, settle_seconds=SETTLE_SECONDS, sleep=waits)
    yield Services(medusa=medusa, orders=orders, status=reporter)
    medusa.close()
    reporter.close()


def view(**overrides: Any) -> httpx.Response:
    return httpx.Response(200, json={"order": order_view(**overrides)})


def unreserved(**overrides: Any) -> httpx.Response:
    return view(reservations=[], **overrides)


def test_stock_missing_on_two_reads_a_settle_interval_apart_is_stock_missing(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    route = plugin("view", unreserved())

    with pytest.raises(BusinessError) as raised:
        reserve_inventory(make_context("reserve-inventory"), settling)

    assert raised.value.error_code == BpmnErrorCode.STOCK_MISSING.value
    assert route.calls == 2
    assert status_log.statuses == []


def test_the_second_read_comes_after_the_settle_wait(
    plugin: PluginServer, settling: Services, waits: Waits
) -> None:
    route = plugin("view", unreserved())
    waits.reads = lambda: route.calls

    with pytest.raises(BusinessError):
        reserve_inventory(make_context("reserve-inventory"), settling)

    assert waits.waits == [(SETTLE_SECONDS, 1)], "one read before the wait, the confirmation after it"
    assert route.calls == 2


def test_an_order_canceled_by_the_second_read_ends_canceled_not_out_of_stock(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    plugin("view", unreserved(), unreserved(status="canceled", payment_collections=[CANCELED_COLLECTION]))

    with pytest.raises(BusinessError) as raised:
        reserve_inventory(make_context("reserve-inventory"), settling)

    assert raised.value.error_code == BpmnErrorCode.ORDER_CANCELED.value
    assert status_log.statuses == []


def test_reservations_back_on_the_second_read_let_the_order_go_on(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    """A cancel that failed compensates its steps: Medusa restores the reservations it deleted."""
    plugin("view", unreserved(), view())

    assert reserve_inventory(make_context("reserve-inventory"), settling) == {"stocked_line_items": 1}
    assert status_log.statuses == ["inventory_reserved"]


def test_reservations_going_between_the_reads_of_an_open_order_are_a_technical_fault(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    items = [stocked_item("ordli_a", 1), stocked_item("ordli_b", 1)]
    half = view(items=items, reservations=[reservation("ordli_a", 1)])
    plugin("view", half, view(items=items, reservations=[]))

    with pytest.raises(
        OrderBeingCanceled,
        match=r"being canceled \(its reservations or payments changed within 2.5 s.*STOCK_MISSING",
    ):
        reserve_inventory(make_context("reserve-inventory"), settling)
    assert status_log.statuses == []


def test_a_canceled_payment_on_an_open_order_without_stock_is_a_technical_fault(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    """Medusa marks the payment collections canceled just before the order: the payment was verified, so
    a canceled collection now is the trace of a cancel that has not finished."""
    plugin("view", unreserved(payment_collections=[CANCELED_COLLECTION]))

    with pytest.raises(OrderBeingCanceled, match="every payment of the open order is canceled"):
        reserve_inventory(make_context("reserve-inventory"), settling)
    assert status_log.statuses == []


def test_a_payment_canceled_on_an_open_order_that_stays_so_is_a_failed_payment(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    # The README's case "payment canceled": both reads agree on an open order, so the business error stands.
    canceled = view(payment_status="canceled", payment_collections=[CANCELED_COLLECTION])
    plugin("view", canceled, canceled)

    with pytest.raises(BusinessError) as raised:
        verify_payment(make_context(), settling)
    assert raised.value.error_code == "PAYMENT_NOT_AUTHORIZED"


def test_a_payment_canceled_between_the_reads_of_an_open_order_is_a_technical_fault(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    short = view(payment_status="partially_authorized", total=50)
    canceling = view(payment_status="canceled", total=50, payment_collections=[CANCELED_COLLECTION])
    plugin("view", short, canceling)

    with pytest.raises(OrderBeingCanceled, match="PAYMENT_NOT_AUTHORIZED"):
        verify_payment(make_context(), settling)
    assert status_log.statuses == []


def test_a_payment_failure_whose_order_is_canceled_by_the_second_read_ends_canceled(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    canceling = view(payment_status="canceled", payment_collections=[CANCELED_COLLECTION])
    plugin("view", canceling, view(payment_status="canceled", status="canceled"))

    with pytest.raises(BusinessError) as raised:
        verify_payment(make_context(), settling)

    assert raised.value.error_code == BpmnErrorCode.ORDER_CANCELED.value


def test_a_payment_failure_both_reads_agree_on_is_a_payment_failure(
    plugin: PluginServer, settling: Services, status_log: StatusLog
) -> None:
    route = plugin("view", view(payment_status="partially_authorized", total=50))

    with pytest.raises(BusinessError) as raised:
        verify_payment(make_context(), settling)

    assert raised.value.error_code == BpmnErrorCode.PAYMENT_NOT_AUTHORIZED.value
    assert route.calls == 2


def test_a_passing_check_reads_the_order_once_and_never_waits(
    plugin: PluginServer, settling: Services, waits: Waits
) -> None:
    route = plugin("view", view())

    verify_payment(make_context(), settling)
    reserve_inventory(make_context("reserve-inventory"), settling)

    assert route.calls == 1
    assert waits.waits == []


def test_one_canceled_collection_beside_a_live_one_is_still_a_payment_failure(
    plugin: PluginServer, settling: Services
) -> None:
    """An order edit's collection canceled leaves the order's own: no trace of a cancel of the order."""
    live = {**CANCELED_COLLECTION, "id": "pay_col_0", "status": "authorized", "authorized_amount": 30}
    plugin("view", view(total=42.5, payment_collections=[live, CANCELED_COLLECTION]))

    with pytest.raises(BusinessError) as raised:
        verify_payment(make_context(), settling)

    assert raised.value.error_code == BpmnErrorCode.PAYMENT_NOT_AUTHORIZED.value
