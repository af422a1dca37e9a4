"""fail-order: the terminal status named by the model, the reason, and a failure notification."""

from __future__ import annotations

import json
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


def test_a_canceling_path_reports_then_cancels_in_medusa_then_tells_the_truth(
    http: respx.MockRouter, services: Services, status_log: StatusLog, outbox_dir: Path
) -> None:
    http.get(ORDER_URL).respond(200, json=shop_order())
    cancel = http.post(f"{ORDER_URL}/cancel").respond(200, json=shop_order(status="canceled"))
    context = make_context(
        "fail-order",
        headers={"template": "order-canceled-payment", "cancel_order": "true", "notify": "true"},
        failure_status="payment_failed",
        failure_reason="The payment was not completed for the order total.",
    )

    result = fail_order(context, services)

    assert result == {"failure_reported": "payment_failed", "order_canceled": True}
    assert status_log.statuses == ["payment_failed"]
    assert status_log.bodies[0]["step"] == "fail-order"
    assert "canceled in Medusa" in status_log.bodies[0]["message"]
    assert cancel.call_count == 1
    (mail,) = outbox_dir.glob("*.json")
    assert mail.name == f"{ORDER_ID}.order-canceled-payment.json"
    sent = json.loads(mail.read_text())
    assert "has been canceled" in sent["subject"]
    assert "authorization on your payment method has been released" in sent["body"]


def test_a_retry_does_not_cancel_an_order_that_is_already_canceled(
    http: respx.MockRouter, services: Services, status_log: StatusLog, outbox_dir: Path
) -> None:
    http.get(ORDER_URL).respond(200, json=shop_order(status="canceled"))
    cancel = http.post(f"{ORDER_URL}/cancel").respond(400, json={"message": "already canceled"})
    context = make_context("fail-order", headers={"cancel_order": "true"}, failure_status="payment_failed")

    fail_order(context, services)

    assert not cancel.called


def test_the_hold_path_keeps_the_order_open_and_mails_nobody(
    http: respx.MockRouter, services: Services, status_log: StatusLog, outbox_dir: Path
) -> None:
    http.get(ORDER_URL).respond(200, json=shop_order())
    cancel = http.post(f"{ORDER_URL}/cancel").respond(200, json=shop_order(status="canceled"))
    context = make_context(
        "fail-order",
        headers={"cancel_order": "false", "notify": "false"},
        failure_status="out_of_stock",
        failure_reason="Some items are not in stock: the order is held for staff.",
    )

    assert fail_order(context, services)["order_canceled"] is False
    assert status_log.statuses == ["out_of_stock"]
    assert not cancel.called
    assert not outbox_dir.exists()


def test_handler_still_reports_when_the_order_is_gone(
    http: respx.MockRouter, services: Services, status_log: StatusLog, outbox_dir: Path
) -> None:
    http.get(ORDER_URL).respond(404, json={"type": "not_found", "message": "Order id not found"})

    fail_order(make_context("fail-order", failure_status="failed"), services)

    assert status_log.statuses == ["failed"]
    assert not outbox_dir.exists()
