"""Payment cases against the real Medusa: an order not paid yet waits (no mail) and completes once staff
mark it as paid; an order never paid is canceled in Medusa, which releases its stock, and the customer is
told the truth; an order canceled by staff while its process waits ends `canceled`, without a mail.

A converted draft order is what phone and B2B sales produce: `payment_status` `not_paid`, no payment
collection. The worker re-checks it every 2 s here (the model's default is 15 minutes).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.stack import Stack

from .support import Driver, log_lines, poll, worker_with

pytestmark = pytest.mark.e2e

RECHECK = {"PAYMENT_RECHECK_INTERVAL": "PT2S"}


@pytest.fixture
def patient_worker(stack: Stack) -> Iterator[None]:
    with worker_with(stack, {**RECHECK, "PAYMENT_MAX_WAIT": "PT10M"}):
        yield


@pytest.fixture
def impatient_worker(stack: Stack) -> Iterator[None]:
    with worker_with(stack, {**RECHECK, "PAYMENT_MAX_WAIT": "PT5S"}):
        yield


def _payment_checks(driver: Driver, order_id: str) -> int:
    (instance,) = driver.instances(order_id)
    detail = driver.engine.instance(instance["key"])
    return sum(
        1
        for event in detail["history"]
        if event["element_id"] == "VerifyPayment" and event["intent"] == "ELEMENT_ACTIVATED"
    )


def test_a_converted_draft_order_awaits_payment_then_completes_once_marked_paid(
    driver: Driver, patient_worker: None
) -> None:
    order_id = driver.convert_draft_order()

    metadata = driver.wait_for_status(order_id, {"awaiting_payment"})
    assert "not_paid" in metadata["workflow_message"]
    poll(lambda: _payment_checks(driver, order_id) >= 2, 30, lambda: "a second payment check")
    assert driver.metadata(order_id)["workflow_status"] == "awaiting_payment"
    assert driver.mails(order_id) == [], "no mail while the order waits for its payment"

    driver.mark_as_paid(order_id)

    final = driver.wait_for_status(order_id, timeout=60)
    assert final["workflow_status"] == "completed", final
    assert driver.mails(order_id) == ["order-confirmation"]
    assert len(driver.instances(order_id)) == 1


def test_an_order_never_paid_is_canceled_in_medusa_and_the_mail_says_so(
    stack: Stack, driver: Driver, impatient_worker: None
) -> None:
    order_id = driver.convert_draft_order()
    held = driver.reservations(order_id)

    final = driver.wait_for_status(order_id, timeout=60)

    assert final["workflow_status"] == "payment_failed", final
    assert "canceled in Medusa" in final["workflow_message"]
    # The status says canceled only after Medusa canceled the order, and the mail went with the status.
    assert driver.admin.order(order_id)["status"] == "canceled"
    assert held, "the converted order held stock before"
    assert driver.reservations(order_id) == [], "Medusa's cancel released the reservations"
    assert driver.mails(order_id) == ["order-canceled-payment"]
    mail = (stack.outbox_dir / f"{order_id}.order-canceled-payment.json").read_text()
    assert "has been canceled" in mail
    assert "No money was taken" in mail


def test_an_order_canceled_by_staff_while_it_waits_ends_canceled_without_a_mail(
    stack: Stack, driver: Driver, patient_worker: None
) -> None:
    order_id = driver.convert_draft_order()
    driver.wait_for_status(order_id, {"awaiting_payment"})

    driver.admin.post(f"/admin/orders/{order_id}/cancel")

    final = driver.wait_for_status(order_id, timeout=60)
    assert final["workflow_status"] == "canceled", final
    medusa_log = stack.group.get("medusa").log_path
    poll(
        lambda: bool(log_lines(medusa_log, f"msg_order_canceled_{order_id}: delivered")),
        30,
        lambda: f"the plugin to forward order.canceled for {order_id}",
    )
    assert driver.mails(order_id) == []
    (instance,) = driver.instances(order_id)
    detail = driver.engine.instance(instance["key"])
    assert detail["state"] == "COMPLETED"
    assert "RecordCanceled" in {event["element_id"] for event in detail["history"]}
