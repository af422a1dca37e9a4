"""fail-order: the terminal status named by the model, the reason, and a failure notification."""

from __future__ import annotations

from pathlib import Path

import pytest
import respx

from worker_job.failure import fail_order, failure_message, failure_status
from worker_job.job_context import MissingJobVariable
from worker_job.services import Services

from ..helpers import ORDER_ID
from .factories import ORDER_URL, StatusLog, make_context, shop_order


@pytest.mark.parametrize("status", ["payment_failed", "out_of_stock", "failed"])
def test_failure_statuses_of_the_model_are_accepted(status: str) -> None:
    assert failure_status(make_context("fail-order", failure_status=status)).value == status


@pytest.mark.parametrize("status", [None, "", "started", "inventory_reserved", "completed", "lost"])
def test_anything_but_a_failure_status_is_a_modelling_error(status: str | None) -> None:
    with pytest.raises(MissingJobVariable):
        failure_status(make_context("fail-order", failure_status=status))


def test_message_adds_the_cause_the_worker_attached_to_the_bpmn_error() -> None:
    plain = make_context("fail-order", failure_reason="Payment was not authorized.")
    detailed = make_context(
        "fail-order",
        failure_reason="Payment was not authorized.",
        failure_detail="payment status is 'awaiting'",
    )

    assert failure_message(plain) == "Payment was not authorized."
    assert failure_message(detailed) == "Payment was not authorized. (payment status is 'awaiting')"


def test_handler_reports_the_status_then_tells_the_customer(
    http: respx.MockRouter, services: Services, status_log: StatusLog, outbox_dir: Path
) -> None:
    http.get(ORDER_URL).respond(200, json=shop_order())
    context = make_context(
        "fail-order",
        headers={"template": "order-failed"},
        failure_status="out_of_stock",
        failure_reason="Some items are not reserved in stock.",
    )

    result = fail_order(context, services)

    assert result == {"failure_reported": "out_of_stock"}
    assert status_log.statuses == ["out_of_stock"]
    assert status_log.bodies[0]["step"] == "fail-order"
    assert [path.name for path in outbox_dir.glob("*.json")] == [f"{ORDER_ID}.order-failed.json"]


def test_handler_still_reports_when_the_order_is_gone(
    http: respx.MockRouter, services: Services, status_log: StatusLog, outbox_dir: Path
) -> None:
    http.get(ORDER_URL).respond(404, json={"type": "not_found", "message": "Order id not found"})

    fail_order(make_context("fail-order", failure_status="failed"), services)

    assert status_log.statuses == ["failed"]
    assert not outbox_dir.exists()
