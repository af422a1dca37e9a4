"""fail-order: cancel first, then the terminal status with the mail folded in; a refused cancel is
`cancel_refused` at once, without a mail; a plugin that refuses our secret is an outage, not an outcome."""

from __future__ import annotations

import httpx
import pytest
import respx

from fulfillment.errors import MedusaAuthError
from worker_job.fail_order import fail_order, failure_message, failure_status
from worker_job.job_context import JobContext, MissingJobVariable
from worker_job.services import Services
from worker_job.status_reporter import StatusReportFailed

from .conftest import PluginServer
from .factories import STATUS_URL, StatusLog, cancel_answer, make_context

CANCEL_PAYMENT = {"template": "order-canceled-payment", "cancel_order": "true", "notify": "true"}
PAYMENT_REASON = "The payment was not completed for the order total."


def payment_failure(headers: dict[str, str] | None = None) -> JobContext:
    return make_context(
        "fail-order",
        headers=CANCEL_PAYMENT if headers is None else headers,
        failure_status="payment_failed",
        failure_reason=PAYMENT_REASON,
        failure_detail="payment status is 'canceled'",
    )


@pytest.mark.parametrize("status", ["payment_failed", "out_of_stock"])
def test_failure_statuses_of_the_model_are_accepted(status: str) -> None:
    assert failure_status(make_context("fail-order", failure_status=status)).value == status


@pytest.mark.parametrize(
    "status", [None, "", "started", "failed", "inventory_reserved", "completed", "cancel_refused", "lost"]
)
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


def test_a_canceling_path_cancels_first_then_records_the_status_with_the_mail(
    http: respx.MockRouter, plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    cancel = plugin("cancel", cancel_answer("canceled", captured=42.5, refunded=42.5))

    result = fail_order(payment_failure(), services)

    called = [call.request.url.path.rsplit("/", 1)[-1] for call in http.calls]
    assert called == ["cancel", "status_update"], "the failure status only after Medusa canceled"
    assert cancel.calls == 1
    assert result == {"failure_reported": "payment_failed", "order_canceled": True}
    (report,) = status_log.bodies
    assert report["status"] == "payment_failed"
    assert report["step"] == "fail-order"
    assert report["notification"] == {
        "template": "order-canceled-payment",
        "data": {"reason": PAYMENT_REASON},
    }
    assert "canceled in Medusa; 42.5 of 42.5 captured is refunded" in report["message"]
    assert "payment status is 'canceled'" in report["message"]


def test_an_order_canceled_before_is_recorded_and_mailed_like_one_canceled_now(
    plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("cancel", cancel_answer("already_canceled"))

    fail_order(payment_failure(), services)

    (report,) = status_log.bodies
    assert report["status"] == "payment_failed"
    assert "no money was captured" in report["message"]
    assert status_log.mails == [{"template": "order-canceled-payment", "data": {"reason": PAYMENT_REASON}}]


def test_a_refused_cancel_is_cancel_refused_at_once_with_medusas_reason_and_no_mail(
    plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    reason = "All fulfillments must be canceled before canceling an order"
    cancel = plugin("cancel", cancel_answer("refused", reason=reason))

    result = fail_order(payment_failure(), services)

    assert result == {"failure_reported": "cancel_refused", "order_canceled": False}
    assert cancel.calls == 1, "a refusal is an answer, never retried"
    (report,) = status_log.bodies
    assert report["status"] == "cancel_refused"
    assert reason in report["message"]
    assert "notification" not in report
    assert status_log.mails == []


def test_a_job_run_again_after_a_lost_answer_mails_once(
    plugin: PluginServer, services: Services, status_log: StatusLog
) -> None:
    plugin("cancel", cancel_answer("canceled"), cancel_answer("already_canceled"))

    fail_order(payment_failure(), services)
    fail_order(payment_failure(), services)

    assert status_log.statuses == ["payment_failed", "payment_failed"]
    assert len(status_log.mails) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_plugin_refusing_the_worker_secret_is_an_outage_not_an_outcome(
    http: respx.MockRouter, services: Services, status_log: StatusLog, status: int
) -> None:
    http.post(url__regex=r"/cancel$").respond(status, json={"message": "Unauthorized"})

    with pytest.raises(MedusaAuthError):
        fail_order(payment_failure(), services)

    assert status_log.bodies == [], "no status, no mail: the job fails and is retried"


def test_the_hold_path_records_the_status_without_cancel_or_mail(
    http: respx.MockRouter, services: Services, status_log: StatusLog
) -> None:
    context = make_context(
        "fail-order",
        headers={"cancel_order": "false", "notify": "false"},
        failure_status="out_of_stock",
        failure_reason="Some items are not in stock: the order is held for staff.",
    )

    assert fail_order(context, services)["order_canceled"] is False
    assert status_log.statuses == ["out_of_stock"]
    assert "notification" not in status_log.bodies[0]
    assert [call.request.url.host for call in http.calls] == ["status.test"], "no call to Medusa"


def test_a_held_order_is_mailed_only_when_the_model_says_notify(
    services: Services, status_log: StatusLog
) -> None:
    context = make_context(
        "fail-order",
        headers={"cancel_order": "false", "notify": "true", "template": "order-canceled-stock"},
        failure_status="out_of_stock",
        failure_reason="Some items are not in stock.",
    )

    fail_order(context, services)

    assert status_log.mails == [
        {"template": "order-canceled-stock", "data": {"reason": "Some items are not in stock."}}
    ]


@pytest.mark.parametrize("template", [None, "order-failed"])
def test_a_mail_without_a_known_template_is_a_modelling_error_before_any_call(
    http: respx.MockRouter, services: Services, template: str | None
) -> None:
    headers = {"cancel_order": "true", "notify": "true", **({"template": template} if template else {})}

    with pytest.raises(MissingJobVariable, match="template"):
        fail_order(payment_failure(headers), services)

    assert not http.calls


def test_a_status_function_that_cannot_be_reached_fails_the_job_after_the_cancel(
    http: respx.MockRouter, plugin: PluginServer, services: Services
) -> None:
    plugin("cancel", cancel_answer("canceled"))
    http.post(STATUS_URL).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(StatusReportFailed):
        fail_order(payment_failure(), services)
