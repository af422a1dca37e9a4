"""Status reports: signed, optionally with a cached Google ID token, failing loudly."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from fulfillment.rate_limit import CallLimit, call_deadline, call_slot
from fulfillment.workflow import MESSAGE_MAX_LENGTH, MailTemplate, Notification, WorkflowStatus
from worker_job.status_reporter import IdTokenSource, StatusReporter, StatusReportFailed, token_expiry

from ..helpers import ORDER_ID
from .factories import PROCESS_INSTANCE_KEY, STATUS_URL, StatusLog, make_context

MakeReporter = Callable[..., StatusReporter]


@pytest.fixture
def make_reporter(status_secret: str) -> Iterator[MakeReporter]:
    made: list[StatusReporter] = []

    def make(id_tokens: IdTokenSource | None = None) -> StatusReporter:
        made.append(StatusReporter(STATUS_URL, status_secret, id_tokens=id_tokens))
        return made[-1]

    yield make
    for reporter in made:
        reporter.close()


def fake_jwt(exp: int) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part({'aud': STATUS_URL, 'exp': exp})}.c2ln"


def report(reporter: StatusReporter, status: WorkflowStatus = WorkflowStatus.AWAITING_PAYMENT) -> bool:
    return reporter.report(make_context("verify-payment"), status, "hello").applied


def test_report_is_a_signed_status_update(status_log: StatusLog, make_reporter: MakeReporter) -> None:
    applied = report(make_reporter(), WorkflowStatus.PAYMENT_VERIFIED)

    assert applied is True
    (body,) = status_log.bodies  # StatusLog verified the signature
    assert body["order_id"] == ORDER_ID
    assert body["process_instance_key"] == str(PROCESS_INSTANCE_KEY)
    assert body["status"] == "payment_verified"
    assert body["step"] == "verify-payment"
    assert body["occurred_at"].endswith("Z")


def test_the_mail_travels_with_the_status_and_its_receipt_comes_back(
    status_log: StatusLog, make_reporter: MakeReporter
) -> None:
    reporter = make_reporter()
    mail = Notification(template=MailTemplate.ORDER_CONFIRMATION)

    receipt = reporter.report(make_context("send-notification"), WorkflowStatus.COMPLETED, "done", mail)

    assert status_log.bodies[0]["notification"] == {"template": "order-confirmation", "data": {}}
    assert receipt.notification is not None
    assert (receipt.notification.sent, receipt.notification.reason) == (True, None)


def test_a_report_without_a_mail_sends_none_and_gets_no_receipt(
    status_log: StatusLog, make_reporter: MakeReporter
) -> None:
    reporter = make_reporter()

    receipt = reporter.report(make_context(), WorkflowStatus.PAYMENT_VERIFIED, "m")

    assert "notification" not in status_log.bodies[0]
    assert receipt.notification is None


def test_a_long_message_is_cut_not_refused(status_log: StatusLog, make_reporter: MakeReporter) -> None:
    make_reporter().report(make_context("fail-order"), WorkflowStatus.OUT_OF_STOCK, "x" * 5000)

    assert len(status_log.bodies[0]["message"]) == MESSAGE_MAX_LENGTH


def test_retries_of_one_state_change_keep_their_message_id(
    http: respx.MockRouter, make_reporter: MakeReporter
) -> None:
    route = http.post(STATUS_URL).respond(200, json={"applied": False})
    reporter = make_reporter()

    assert report(reporter) is False
    report(reporter)
    report(reporter, WorkflowStatus.PAYMENT_VERIFIED)

    ids = [call.request.headers["webhook-id"] for call in route.calls]
    assert ids[0] == ids[1] == f"msg_{PROCESS_INSTANCE_KEY}_awaiting_payment"
    assert ids[2] == f"msg_{PROCESS_INSTANCE_KEY}_payment_verified"


@pytest.mark.parametrize("answer", [500, 503, 401, 404, 400])
def test_any_answer_but_200_fails_the_report(
    http: respx.MockRouter, make_reporter: MakeReporter, answer: int
) -> None:
    http.post(STATUS_URL).respond(answer, json={"error": "x"})

    with pytest.raises(StatusReportFailed, match=str(answer)):
        report(make_reporter())


def test_an_unreachable_status_function_fails_the_report(
    http: respx.MockRouter, make_reporter: MakeReporter
) -> None:
    http.post(STATUS_URL).mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(StatusReportFailed, match="ConnectError"):
        report(make_reporter())


def test_id_token_is_sent_and_reused_until_near_expiry(
    http: respx.MockRouter, make_reporter: MakeReporter
) -> None:
    route = http.post(STATUS_URL).respond(200, json={"applied": True})
    now = [1_000_000.0]
    fetched: list[str] = []

    def fetch(audience: str) -> str:
        fetched.append(audience)
        return fake_jwt(exp=int(now[0]) + 3600)

    reporter = make_reporter(IdTokenSource(STATUS_URL, fetch=fetch, clock=lambda: now[0]))
    report(reporter)
    now[0] += 3000  # 10 minutes left: still good
    report(reporter)
    now[0] += 400  # less than 5 minutes left: renewed
    report(reporter)

    assert fetched == [STATUS_URL, STATUS_URL]
    headers = [call.request.headers["authorization"] for call in route.calls]
    assert headers[0] == headers[1] != headers[2]
    assert headers[0] == f"Bearer {fake_jwt(exp=1_003_600)}"


def test_no_id_token_fails_the_report_without_calling(
    http: respx.MockRouter, make_reporter: MakeReporter
) -> None:
    route = http.post(STATUS_URL).respond(200, json={"applied": True})

    def fetch(audience: str) -> str:
        raise RuntimeError("no credentials")

    with pytest.raises(StatusReportFailed, match="no ID token"):
        report(make_reporter(IdTokenSource(STATUS_URL, fetch=fetch)))
    assert not route.called


def test_token_expiry_reads_the_exp_claim() -> None:
    assert token_expiry(fake_jwt(exp=1234)) == 1234.0


def test_each_report_takes_a_turn_of_the_workers_medusa_limit_and_holds_it_until_answered(
    http: respx.MockRouter, status_log: StatusLog, status_secret: str
) -> None:
    # Each report is one call of the plugin's status route (made by the status function).
    sleeps: list[float] = []
    limit = CallLimit(5, max_in_flight=1, clock=lambda: 0.0, sleep=sleeps.append)
    reporter = StatusReporter(STATUS_URL, status_secret, call_limit=limit)
    held_while_sent: list[int] = []

    def status_function(request: httpx.Request) -> httpx.Response:
        held_while_sent.append(limit.in_flight)
        return status_log(request)

    http.post(STATUS_URL).mock(side_effect=status_function)

    report(reporter)
    report(reporter, WorkflowStatus.PAYMENT_VERIFIED)

    assert len(status_log.bodies) == 2
    assert sleeps == [pytest.approx(0.2)]
    assert held_while_sent == [1, 1]
    assert limit.in_flight == 0
    reporter.close()


def test_a_report_without_a_token_before_the_jobs_deadline_fails_unsent(
    status_log: StatusLog, status_secret: str
) -> None:
    limit = CallLimit(1, max_in_flight=8, clock=lambda: 0.0, sleep=lambda _: None)
    limit.rate.reserve(0.0)  # the next token is a second away
    reporter = StatusReporter(STATUS_URL, status_secret, call_limit=limit)

    with call_deadline(0.5), pytest.raises(StatusReportFailed, match="deadline"):
        report(reporter)

    assert status_log.bodies == []
    reporter.close()


def test_a_report_without_a_place_among_the_calls_in_flight_before_the_jobs_deadline_fails_unsent(
    status_log: StatusLog, status_secret: str
) -> None:
    limit = CallLimit(1000, max_in_flight=1)
    reporter = StatusReporter(STATUS_URL, status_secret, call_limit=limit)

    with (
        call_slot(limit, AssertionError),  # another job's call, under way
        call_deadline(time.monotonic() + 0.05),
        pytest.raises(StatusReportFailed, match="deadline"),
    ):
        report(reporter)

    assert status_log.bodies == []
    assert limit.in_flight == 0
    reporter.close()


@pytest.mark.parametrize("body", [b"<html>ok</html>", b"[]", b'{"reason": "stale"}'])
def test_an_answer_that_is_not_a_status_answer_is_a_technical_fault(
    http: respx.MockRouter, make_reporter: MakeReporter, body: bytes
) -> None:
    # Whether the status landed is unknown: the job must be retried, never completed on a guess.
    http.post(STATUS_URL).respond(200, content=body)

    with pytest.raises(StatusReportFailed, match="not a status answer"):
        report(make_reporter())
