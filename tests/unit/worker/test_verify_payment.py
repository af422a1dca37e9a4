"""verify-payment: which orders pass, and what the handler reports and throws."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from pyzeebe.errors import BusinessError

from fulfillment.orders import OrderView
from worker_job.policy import BusinessPolicy
from worker_job.services import Services
from worker_job.status_reporter import StatusReportFailed
from worker_job.verify_payment import check_payment, parse_statuses, verify_payment

from .conftest import PluginServer
from .factories import STATUS_URL, StatusLog, make_context, payment_order

ACCEPTED = parse_statuses("authorized,captured")


def snapshot(**kwargs: Any) -> OrderView:
    return OrderView.model_validate(payment_order(**kwargs)["order"])


def collection(status: str, authorized: float, captured: float = 0) -> dict[str, Any]:
    return {
        "id": f"pay_col_{status}",
        "status": status,
        "amount": 42.5,
        "authorized_amount": authorized,
        "captured_amount": captured,
    }


def view(**kwargs: Any) -> httpx.Response:
    return httpx.Response(200, json=payment_order(**kwargs))


def test_authorized_payment_covering_the_total_passes() -> None:
    check = check_payment(snapshot(), ACCEPTED)

    assert check.authorized
    assert check.reason == "payment authorized: 42.5 EUR covers the total"


def test_captured_payment_passes() -> None:
    order = snapshot(payment_status="captured", collections=[collection("completed", 42.5, 42.5)])

    assert check_payment(order, ACCEPTED).authorized


@pytest.mark.parametrize(
    "payment_status", ["not_paid", "awaiting", "partially_authorized", "canceled", "requires_action", None]
)
def test_other_payment_statuses_fail(payment_status: str | None) -> None:
    check = check_payment(snapshot(payment_status=payment_status), ACCEPTED)

    assert not check.authorized
    assert f"payment status is {payment_status!r}" in check.reason


def test_an_amount_short_of_the_total_fails() -> None:
    check = check_payment(snapshot(collections=[collection("authorized", 40.0)]), ACCEPTED)

    assert not check.authorized
    assert check.reason == "only 40.0 of 42.5 EUR is authorized"


def test_amounts_of_several_collections_add_up_and_canceled_ones_do_not_count() -> None:
    covering = [collection("authorized", 30.0), collection("authorized", 12.5)]
    short = [collection("authorized", 30.0), collection("canceled", 12.5)]

    assert check_payment(snapshot(collections=covering), ACCEPTED).authorized
    assert not check_payment(snapshot(collections=short), ACCEPTED).authorized


def test_amounts_are_compared_exactly_not_as_floats() -> None:
    order = snapshot(total=0.3, collections=[collection("authorized", 0.3)])

    assert order.total == Decimal("0.3")
    assert check_payment(order, ACCEPTED).authorized


def test_the_model_can_narrow_the_accepted_statuses() -> None:
    check = check_payment(snapshot(), parse_statuses(" captured , "))

    assert not check.authorized
    assert "expected captured" in check.reason


def test_handler_reads_the_order_once_then_reports_payment_verified(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    route = plugin("view", view())

    result = verify_payment(make_context(), services)

    assert result == {"payment_status": "authorized", "payment_outcome": "verified"}
    assert status_log.statuses == ["payment_verified"]
    assert {body["step"] for body in status_log.bodies} == {"verify-payment"}
    assert status_log.bodies[0]["process_instance_key"] == "2251799813685301"
    assert route.calls == 1


@pytest.mark.parametrize("pending", ["not_paid", "awaiting", "requires_action"])
def test_an_unpaid_order_awaits_payment_with_a_deadline_and_the_recheck_interval(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog, pending: str
) -> None:
    plugin("view", view(payment_status=pending))
    headers = {"payment_recheck_interval": "PT15M", "payment_max_wait": "P3D"}
    before = datetime.now(UTC)

    result = verify_payment(make_context(headers=headers), services)

    assert result["payment_outcome"] == "awaiting"
    assert result["payment_recheck_interval"] == "PT900S"
    deadline = datetime.fromisoformat(result["payment_deadline"])
    assert before + timedelta(days=3) <= deadline <= datetime.now(UTC) + timedelta(days=3)
    assert status_log.statuses == ["awaiting_payment"]


def test_a_recheck_keeps_the_first_deadline(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("view", view(payment_status="not_paid"))
    deadline = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    result = verify_payment(make_context(payment_deadline=deadline), services)

    assert result["payment_deadline"] == deadline


def test_an_order_never_paid_by_its_deadline_is_a_payment_failure(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("view", view(payment_status="not_paid"))
    passed = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()

    with pytest.raises(BusinessError) as raised:
        verify_payment(make_context(payment_deadline=passed), services)

    assert raised.value.error_code == "PAYMENT_NOT_AUTHORIZED"
    assert "still 'not_paid'" in str(raised.value)
    assert status_log.statuses == []


def test_the_settings_override_the_models_recheck_interval(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("view", view(payment_status="awaiting"))
    quick = replace(services, policy=BusinessPolicy(payment_recheck_interval=timedelta(seconds=2)))

    result = verify_payment(make_context(headers={"payment_recheck_interval": "PT15M"}), quick)

    assert result["payment_recheck_interval"] == "PT2S"


def test_a_zero_total_order_is_verified_without_a_payment(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("view", view(payment_status="not_paid", total=0))

    assert verify_payment(make_context(), services)["payment_outcome"] == "verified"
    assert status_log.statuses == ["payment_verified"]


def test_a_refunded_order_whose_total_medusa_reports_as_zero_is_a_payment_failure(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    # Medusa 2.21 after a full refund of a captured payment: the order's total reads 0.
    refunded = {"id": "pay_col_1", "status": "completed", "amount": 30, "authorized_amount": 30}
    refunded |= {"captured_amount": 30, "refunded_amount": 30}
    plugin("view", view(payment_status="refunded", total=0, collections=[refunded]))

    with pytest.raises(BusinessError) as raised:
        verify_payment(make_context(), services)

    assert raised.value.error_code == "PAYMENT_NOT_AUTHORIZED"
    assert "payment status is 'refunded'" in str(raised.value)
    assert status_log.statuses == []


def test_a_failed_payment_throws_payment_not_authorized_without_a_report(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("view", view(payment_status="canceled"))

    with pytest.raises(BusinessError) as raised:
        verify_payment(make_context(), services)

    assert raised.value.error_code == "PAYMENT_NOT_AUTHORIZED"
    assert "payment status is 'canceled'" in str(raised.value)
    assert status_log.statuses == []


def test_an_order_canceled_in_medusa_ends_as_canceled_not_as_a_payment_failure(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("view", view(payment_status="canceled", status="canceled"))

    with pytest.raises(BusinessError) as raised:
        verify_payment(make_context(), services)

    assert raised.value.error_code == "ORDER_CANCELED"


def test_a_status_function_outage_fails_the_job(
    http: respx.MockRouter, plugin: PluginServer, services: Services
) -> None:
    http.post(STATUS_URL).mock(return_value=httpx.Response(503, json={"error": "medusa_unavailable"}))
    plugin("view", view())

    with pytest.raises(StatusReportFailed, match="503"):
        verify_payment(make_context(), services)


def test_a_retried_payment_check_reads_the_order_afresh(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    canceled = view(payment_status="canceled")
    route = plugin("view", canceled, canceled, view())
    with pytest.raises(BusinessError):
        verify_payment(make_context(), services)

    verify_payment(make_context(), services)

    assert route.calls == 3, "the failure's read, its confirmation, and the retry's own read"
    assert status_log.statuses == ["payment_verified"]
