from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from fulfillment.workflow import (
    MailTemplate,
    Notification,
    StatusUpdate,
    WorkflowStatus,
    metadata_for,
    replaceable_statuses,
)

from .helpers import ORDER_ID, status_update

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def test_ranks_order_the_happy_path_and_failures_are_terminal() -> None:
    happy = [
        WorkflowStatus.AWAITING_PAYMENT,
        WorkflowStatus.PAYMENT_VERIFIED,
        WorkflowStatus.INVENTORY_RESERVED,
    ]
    assert [s.rank for s in happy] == sorted(s.rank for s in happy)
    assert all(not s.terminal for s in happy)
    terminal = {s for s in WorkflowStatus if s.terminal}
    assert terminal == {"completed", "payment_failed", "out_of_stock", "cancel_refused", "canceled"}
    assert all(s.rank > WorkflowStatus.INVENTORY_RESERVED.rank for s in terminal)


def test_the_process_writes_the_statuses_of_the_contract_and_no_others() -> None:
    # The model never writes `started` or `failed` (removed): the plugin's widgets list the same set.
    assert {s.value for s in WorkflowStatus} == {
        "awaiting_payment",
        "payment_verified",
        "inventory_reserved",
        "completed",
        "payment_failed",
        "out_of_stock",
        "cancel_refused",
        "canceled",
    }


def test_first_status_replaces_only_an_order_without_status() -> None:
    assert replaceable_statuses(WorkflowStatus.AWAITING_PAYMENT) == [None]


def test_forward_moves_replace_every_lower_non_terminal_status() -> None:
    assert replaceable_statuses(WorkflowStatus.INVENTORY_RESERVED) == [
        None,
        "awaiting_payment",
        "payment_verified",
    ]
    assert replaceable_statuses(WorkflowStatus.COMPLETED) == [
        None,
        "awaiting_payment",
        "payment_verified",
        "inventory_reserved",
    ]


def test_awaiting_payment_is_not_written_again_on_every_recheck() -> None:
    assert "awaiting_payment" not in replaceable_statuses(WorkflowStatus.AWAITING_PAYMENT)
    assert "awaiting_payment" in replaceable_statuses(WorkflowStatus.PAYMENT_VERIFIED)


@pytest.mark.parametrize("status", list(WorkflowStatus))
def test_nothing_replaces_a_terminal_status_or_itself_or_a_higher_rank(status: WorkflowStatus) -> None:
    replaceable = replaceable_statuses(status)
    for stored in WorkflowStatus:
        if stored.terminal or stored.rank >= status.rank:
            assert stored.value not in replaceable


def test_metadata_for_writes_only_the_workflow_keys() -> None:
    update = status_update(WorkflowStatus.COMPLETED, step="send-notification", occurred_at=T0)
    assert metadata_for(update) == {
        "workflow_instance": "2251799813685249",
        "workflow_status": "completed",
        "workflow_message": "order is completed",
        "last_updated": "2026-11-28T08:00:00+00:00",
        "workflow_step": "send-notification",
    }


def test_metadata_for_without_time_uses_now_and_omits_missing_step() -> None:
    metadata = metadata_for(status_update(), now=T0)
    assert metadata["last_updated"] == T0.isoformat()
    assert "workflow_step" not in metadata


def test_process_instance_key_accepts_int_and_digit_string_as_text() -> None:
    assert status_update(process_instance_key=2251799813685249).process_instance_key == "2251799813685249"
    for bad in ("12a", "", -1, True, 1.5):
        with pytest.raises(ValidationError):
            status_update(process_instance_key=bad)


@pytest.mark.parametrize("bad", ["shipped", "", "COMPLETED"])
def test_unknown_status_is_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        StatusUpdate.model_validate(
            {"order_id": ORDER_ID, "process_instance_key": "1", "status": bad, "message": "x"}
        )


def test_naive_occurred_at_is_taken_as_utc() -> None:
    update = status_update(occurred_at="2026-11-28T08:00:00")
    assert update.occurred_at == T0


def test_a_notification_is_a_known_template_and_at_most_a_reason() -> None:
    update = status_update(
        WorkflowStatus.PAYMENT_FAILED,
        notification={"template": "order-canceled-payment", "data": {"reason": "Not paid."}},
    )
    assert update.notification == Notification.model_validate(
        {"template": MailTemplate.ORDER_CANCELED_PAYMENT, "data": {"reason": "Not paid."}}
    )
    assert status_update(notification={"template": "order-confirmation"}).notification == Notification(
        template=MailTemplate.ORDER_CONFIRMATION
    )


@pytest.mark.parametrize(
    "notification",
    [
        {"template": "order-failed"},
        {"template": "order-confirmation", "data": {"to": "buyer@example.com"}},
        {"template": "order-confirmation", "subject": "Hi"},
        {"template": "order-canceled-stock", "data": {"reason": "x" * 501}},
        {"template": "order-canceled-stock", "data": {"reason": ""}},
    ],
)
def test_a_notification_that_is_not_the_contracts_is_refused(notification: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        status_update(notification=notification)
