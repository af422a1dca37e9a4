"""Notifications: once per order and template, through the outbox or SMTP."""

from __future__ import annotations

import json
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from fulfillment.medusa import MedusaClient
from fulfillment.orders import Order
from worker_job.confirmation import send_notification
from worker_job.notification import (
    MedusaNotifier,
    Notification,
    Outbox,
    OutboxNotifier,
    SmtpNotifier,
    confirmation,
    failure,
    open_smtp,
)
from worker_job.outcomes import BusinessOutcome
from worker_job.services import Services

from ..helpers import API_KEY, MEDUSA_URL, ORDER_ID
from .factories import ORDER_URL, STATUS_URL, StatusLog, make_context, shop_order


def an_order(**overrides: Any) -> Order:
    return Order.model_validate(shop_order(**overrides)["order"])


class FakeSmtp:
    """Stands in for smtplib.SMTP (a unit test: no mail server), recording what the notifier does."""

    instances: list[FakeSmtp] = []

    def __init__(self, host: str, port: int, timeout: float, *, starttls: bool = True) -> None:
        self.address = (host, port, timeout)
        self.offers_starttls = starttls
        self.actions: list[str] = []
        self.sent: list[EmailMessage] = []
        FakeSmtp.instances.append(self)

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(self, *_: object) -> None:
        self.actions.append("quit")

    @staticmethod
    def connect(host: str, port: int, timeout: float) -> FakeSmtp:
        return FakeSmtp(host, port, timeout)

    def ehlo(self) -> None:
        self.actions.append("ehlo")

    def has_extn(self, name: str) -> bool:
        return name == "starttls" and self.offers_starttls

    def starttls(self) -> None:
        self.actions.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.actions.append(f"login {user}:{password}")

    def send_message(self, message: EmailMessage) -> None:
        self.actions.append("send")
        self.sent.append(message)


def smtp_notifier(tmp_path: Path, **kwargs: Any) -> SmtpNotifier:
    FakeSmtp.instances.clear()
    return SmtpNotifier(
        Outbox(tmp_path),
        host="smtp.test",
        port=587,
        sender="shop@example.com",
        connect=FakeSmtp.connect,
        **kwargs,
    )


def test_confirmation_names_the_order_items_and_total() -> None:
    note = confirmation(an_order())

    assert note.key == f"{ORDER_ID}.order-confirmation"
    assert note.to == "buyer@example.com"
    assert note.subject == "Your order #7 is confirmed"
    assert "2 x Mug" in note.body
    assert "Total: 42.5 EUR" in note.body


def test_failure_tells_the_reason() -> None:
    note = failure(an_order(), "Some items are not reserved in stock.")

    assert note.key == f"{ORDER_ID}.order-failed"
    assert "could not be fulfilled" in note.subject
    assert "Reason: Some items are not reserved in stock." in note.body


def test_outbox_writes_one_file_per_notification(tmp_path: Path) -> None:
    notifier = OutboxNotifier(Outbox(tmp_path))
    note = confirmation(an_order())

    assert notifier.send(note) is True
    assert notifier.send(confirmation(an_order())) is False

    files = list(tmp_path.glob("*.json"))
    assert [path.name for path in files] == [f"{ORDER_ID}.order-confirmation.json"]
    stored = json.loads(files[0].read_text())
    assert stored["subject"] == note.subject
    assert stored["created_at"] == note.created_at.isoformat().replace("+00:00", "Z")


def test_outbox_keeps_the_first_of_concurrent_writers(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    notes = [confirmation(an_order(email=f"n{i}@example.com")) for i in range(8)]
    results: list[bool] = []
    barrier = threading.Barrier(len(notes))

    def write(note: Notification) -> None:
        barrier.wait()
        results.append(outbox.record(note))

    threads = [threading.Thread(target=write, args=(note,)) for note in notes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert len(list(tmp_path.iterdir())) == 1


def test_smtp_sends_once_with_a_stable_message_id(tmp_path: Path) -> None:
    notifier = smtp_notifier(tmp_path, username="mailer", password="pw")

    assert notifier.send(confirmation(an_order())) is True
    assert notifier.send(confirmation(an_order())) is False

    (smtp,) = FakeSmtp.instances
    assert smtp.address == ("smtp.test", 587, 30.0)
    assert smtp.actions == ["ehlo", "starttls", "ehlo", "login mailer:pw", "send", "quit"]
    message = smtp.sent[0]
    assert message["Message-ID"] == f"<{ORDER_ID}.order-confirmation@example.com>"
    assert message["To"] == "buyer@example.com"
    assert message["From"] == "shop@example.com"
    assert json.loads((tmp_path / f"{ORDER_ID}.order-confirmation.json").read_text())["channel"] == "smtp"


def test_the_real_smtp_connection_gets_the_timeout_by_keyword(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []
    monkeypatch.setattr("smtplib.SMTP", lambda *args, **kwargs: calls.append((args, kwargs)))

    open_smtp("smtp.test", 25, 12.0)

    assert calls == [(("smtp.test", 25), {"timeout": 12.0})]


def test_smtp_without_an_address_records_but_mails_nothing(tmp_path: Path) -> None:
    notifier = smtp_notifier(tmp_path)

    assert notifier.send(confirmation(an_order(email=None))) is True

    assert FakeSmtp.instances == []
    assert json.loads((tmp_path / f"{ORDER_ID}.order-confirmation.json").read_text())["mailed"] is False


def test_handler_reports_completed_then_notifies_once(
    http: respx.MockRouter, services: Services, status_log: StatusLog, outbox_dir: Path
) -> None:
    http.get(ORDER_URL).respond(200, json=shop_order())
    context = make_context("send-notification", headers={"template": "order-confirmation"})

    first = send_notification(context, services)
    second = send_notification(context, services)

    assert first == {"notification_sent": "order-confirmation", "notification_repeated": False}
    assert second["notification_repeated"] is True
    assert len(list(outbox_dir.glob("*.json"))) == 1
    assert status_log.statuses == ["completed", "completed"]
    assert status_log.bodies[0]["message"] == "order confirmed; the customer is mailed (order-confirmation)"


def answer_status_reports(http: respx.MockRouter, answer: dict[str, Any]) -> None:
    """The status function answers every report with `answer` (in place of the recording receiver)."""
    body = {"order_id": ORDER_ID, **answer}
    http.post(STATUS_URL).mock(side_effect=lambda _: httpx.Response(200, json=body))


@pytest.mark.parametrize(
    "answer",
    [
        {"applied": False, "reason": "order_canceled", "workflow_status": "payment_verified"},
        {"applied": False, "reason": "stale", "workflow_status": "canceled"},
    ],
)
def test_an_order_canceled_since_the_read_is_not_confirmed(
    http: respx.MockRouter, services: Services, outbox_dir: Path, answer: dict[str, Any]
) -> None:
    http.get(ORDER_URL).respond(200, json=shop_order())
    http.post(STATUS_URL).mock(
        side_effect=lambda _: httpx.Response(200, json={"order_id": ORDER_ID, **answer})
    )
    context = make_context("send-notification", headers={"template": "order-confirmation"})

    with pytest.raises(BusinessOutcome) as stopped:
        send_notification(context, services)

    assert stopped.value.error_code == "ORDER_CANCELED"
    assert not outbox_dir.exists() or list(outbox_dir.glob("*.json")) == []


def test_no_confirmation_when_another_outcome_is_recorded(
    http: respx.MockRouter, services: Services, outbox_dir: Path
) -> None:
    http.get(ORDER_URL).respond(200, json=shop_order())
    stored = {"applied": False, "reason": "stale", "workflow_status": "out_of_stock"}
    http.post(STATUS_URL).mock(
        side_effect=lambda _: httpx.Response(200, json={"order_id": ORDER_ID, **stored})
    )

    result = send_notification(make_context("send-notification"), services)

    assert result["notification_sent"] is None
    assert not outbox_dir.exists() or list(outbox_dir.glob("*.json")) == []


def test_the_medusa_notifier_hands_the_mail_to_the_plugin_once_per_order_and_template(tmp_path: Path) -> None:
    route = f"{MEDUSA_URL}/admin/fulfillment-workflow/orders/{ORDER_ID}/notifications"
    answers = iter(
        [{"sent": True, "notification_id": "noti_1"}, {"sent": False, "notification_id": "noti_1"}]
    )
    with respx.mock(assert_all_called=True) as http, MedusaClient(MEDUSA_URL, API_KEY) as medusa:
        sent = http.post(route).mock(side_effect=lambda _request: respx.MockResponse(json=next(answers)))
        notifier = MedusaNotifier(Outbox(tmp_path), medusa)

        assert notifier.send(confirmation(an_order())) is True
        assert notifier.send(confirmation(an_order())) is False

    body = json.loads(sent.calls[0].request.content)
    assert body["template"] == "order-confirmation"
    assert body["to"] == "buyer@example.com"
    assert "is confirmed" in body["subject"]
    assert [path.name for path in tmp_path.glob("*.json")] == [f"{ORDER_ID}.order-confirmation.json"]
