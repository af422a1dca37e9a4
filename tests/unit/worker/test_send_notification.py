"""send-notification: `completed` is recorded with the confirmation mail folded into that one write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from worker_job.job_context import MissingJobVariable
from worker_job.outcomes import BusinessOutcome
from worker_job.send_notification import send_notification
from worker_job.services import Services
from worker_job.status_reporter import StatusReportFailed

from .factories import STATUS_URL, StatusLog, make_context

CONFIRMATION = {"template": "order-confirmation"}


def test_completed_carries_the_confirmation_in_the_same_write(
    http: respx.MockRouter, services: Services, status_log: StatusLog
) -> None:
    result = send_notification(make_context("send-notification", headers=CONFIRMATION), services)

    assert result == {"notification_sent": "order-confirmation", "notification_repeated": False}
    (report,) = status_log.bodies
    assert report["status"] == "completed"
    assert report["notification"] == {"template": "order-confirmation", "data": {}}
    assert report["message"] == "order confirmed; the customer is mailed (order-confirmation)"
    assert [call.request.url.host for call in http.calls] == ["status.test"], "one call: the status write"


def test_a_job_run_again_after_a_lost_answer_mails_once(services: Services, status_log: StatusLog) -> None:
    context = make_context("send-notification", headers=CONFIRMATION)

    send_notification(context, services)
    again = send_notification(context, services)

    assert again["notification_repeated"] is True
    assert status_log.statuses == ["completed", "completed"]
    assert len(status_log.mails) == 1


def test_the_model_default_template_is_the_confirmation(services: Services, status_log: StatusLog) -> None:
    send_notification(make_context("send-notification"), services)

    assert status_log.bodies[0]["notification"]["template"] == "order-confirmation"


def test_an_unknown_template_is_a_modelling_error(http: respx.MockRouter, services: Services) -> None:
    with pytest.raises(MissingJobVariable, match="template"):
        send_notification(make_context("send-notification", headers={"template": "order-shipped"}), services)

    assert not http.calls


def answer_status_reports(http: respx.MockRouter, answer: dict[str, Any]) -> None:
    """The status function answers every report with `answer` (in place of the recording receiver)."""
    http.post(STATUS_URL).mock(side_effect=lambda _: httpx.Response(200, json=answer))


@pytest.mark.parametrize(
    "answer",
    [
        {
            "applied": False,
            "reason": "order_canceled",
            "metadata": {"workflow_status": "payment_verified"},
            "notification": {"sent": False, "reason": "not_recorded"},
        },
        {"applied": False, "reason": "stale", "metadata": {"workflow_status": "canceled"}},
    ],
)
def test_an_order_canceled_since_its_read_is_not_confirmed(
    http: respx.MockRouter, services: Services, answer: dict[str, Any]
) -> None:
    answer_status_reports(http, answer)

    with pytest.raises(BusinessOutcome) as stopped:
        send_notification(make_context("send-notification", headers=CONFIRMATION), services)

    assert stopped.value.error_code == "ORDER_CANCELED"


def test_no_confirmation_when_another_outcome_is_recorded(http: respx.MockRouter, services: Services) -> None:
    answer_status_reports(
        http,
        {
            "applied": False,
            "reason": "stale",
            "metadata": {"workflow_status": "out_of_stock"},
            "notification": {"sent": False, "reason": "not_recorded"},
        },
    )

    result = send_notification(make_context("send-notification"), services)

    assert result == {"notification_sent": None, "notification_repeated": False}


def test_a_status_function_that_answers_503_fails_the_job(http: respx.MockRouter, services: Services) -> None:
    # What the status function answers when the plugin refuses its secret: an outage, retried.
    http.post(STATUS_URL).respond(503, json={"error": "medusa_auth_failed", "message": "..."})

    with pytest.raises(StatusReportFailed, match="503"):
        send_notification(make_context("send-notification"), services)
