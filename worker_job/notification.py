"""Customer notifications: a small Notifier protocol, a local outbox, and SMTP.

Jobs are delivered at least once, so every notifier is idempotent per (order, template): the outbox keeps one
JSON file per notification, named by order id and template, and a second send of the same notification is
a no-op. The SMTP notifier records what it sent in the same outbox and gives every mail a Message-ID made
of order id and template, so a repeat that still slips through (another instance, a lost outbox) can be
recognised by the receiving mail system.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol, Self

from pydantic import BaseModel, ConfigDict

from fulfillment.orders import Order

logger = logging.getLogger(__name__)

CONFIRMATION_TEMPLATE: Final = "order-confirmation"
FAILURE_TEMPLATE: Final = "order-failed"
SMTP_TIMEOUT_SECONDS: Final = 30.0


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    template: str
    to: str | None
    subject: str
    body: str
    created_at: datetime

    @property
    def key(self) -> str:
        """One notification per order and template: the idempotency key and the outbox file name."""
        return f"{self.order_id}.{self.template}"


class Notifier(Protocol):
    def send(self, notification: Notification) -> bool:
        """Delivers the notification once; False when it had been delivered before (nothing sent now)."""
        ...


class SmtpSession(Protocol):
    """The part of smtplib.SMTP the notifier uses."""

    def __enter__(self) -> Self: ...
    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None, /
    ) -> None: ...
    def ehlo(self) -> object: ...
    def has_extn(self, name: str, /) -> bool: ...
    def starttls(self) -> object: ...
    def login(self, user: str, password: str, /) -> object: ...
    def send_message(self, msg: EmailMessage, /) -> object: ...


def open_smtp(host: str, port: int, timeout: float) -> smtplib.SMTP:
    # By keyword: SMTP's third positional parameter is the local host name, not the timeout.
    return smtplib.SMTP(host, port, timeout=timeout)


class Outbox:
    """A directory with one JSON file per notification; writing is atomic and first-writer-wins."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def check_writable(self) -> None:
        """Raises OSError unless notifications can be recorded here (checked once at start)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".probe-"):
            pass

    def path_for(self, notification: Notification) -> Path:
        return self.directory / f"{notification.key}.json"

    def contains(self, notification: Notification) -> bool:
        return self.path_for(notification).exists()

    def record(self, notification: Notification, **extra: Any) -> bool:
        """Writes the notification's file unless it exists; True when this call wrote it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(notification)
        document = {**notification.model_dump(mode="json"), **extra}
        with tempfile.NamedTemporaryFile(
            "w", dir=self.directory, prefix=".tmp-", suffix=".json", delete=False, encoding="utf-8"
        ) as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            temporary = Path(handle.name)
        try:
            # link() fails when the target exists: two workers racing on one notification write it once.
            os.link(temporary, target)
        except FileExistsError:
            return False
        finally:
            temporary.unlink()
        return True


class OutboxNotifier:
    """The default notifier: a log line and a file in the outbox (for development and the demo)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def send(self, notification: Notification) -> bool:
        written = self.outbox.record(notification, channel="outbox")
        logger.info(
            "notification %s",
            "written" if written else "already in the outbox",
            extra={"template": notification.template, "to": notification.to, "subject": notification.subject},
        )
        return written


class SmtpNotifier:
    """Sends mail through an SMTP server (STARTTLS when offered, login when a user is configured)."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        connect: Callable[[str, int, float], SmtpSession] | None = None,
    ) -> None:
        self.outbox = outbox
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._connect = connect or open_smtp

    def send(self, notification: Notification) -> bool:
        if self.outbox.contains(notification):
            logger.info("notification already sent", extra={"template": notification.template})
            return False
        if notification.to:
            self._deliver(self._message(notification))
        else:
            logger.warning("order has no email address: notification not mailed")
        return self.outbox.record(notification, channel="smtp", mailed=bool(notification.to))

    def _message(self, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = notification.to
        message["Subject"] = notification.subject
        domain = self._sender.rpartition("@")[2] or "localhost"
        message["Message-ID"] = f"<{notification.key}@{domain}>"
        message.set_content(notification.body)
        return message

    def _deliver(self, message: EmailMessage) -> None:
        with self._connect(self._host, self._port, SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(message)
        logger.info("notification mailed", extra={"subject": str(message["Subject"])})


def _order_name(order: Order) -> str:
    return f"#{order.display_id}" if order.display_id is not None else order.id


def _item_lines(order: Order) -> str:
    return "\n".join(
        f"  {item.quantity} x {item.title or item.variant_sku or item.id}" for item in order.items
    )


def confirmation(order: Order, template: str = CONFIRMATION_TEMPLATE) -> Notification:
    total = f"{order.total} {order.currency_code.upper()}".strip()
    body = (
        f"Thank you for your order {_order_name(order)}.\n\n"
        f"Payment is confirmed and your items are reserved:\n{_item_lines(order)}\n\n"
        f"Total: {total}\nWe will let you know when it ships.\n"
    )
    return Notification(
        order_id=order.id,
        template=template,
        to=order.email,
        subject=f"Your order {_order_name(order)} is confirmed",
        body=body,
        created_at=datetime.now(UTC),
    )


def failure(order: Order, reason: str, template: str = FAILURE_TEMPLATE) -> Notification:
    body = (
        f"We are sorry: we could not fulfil your order {_order_name(order)}.\n\n"
        f"Reason: {reason}\n\n"
        "Any authorized payment will be released. Reply to this message if you have questions.\n"
    )
    return Notification(
        order_id=order.id,
        template=template,
        to=order.email,
        subject=f"Your order {_order_name(order)} could not be fulfilled",
        body=body,
        created_at=datetime.now(UTC),
    )
