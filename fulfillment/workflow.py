"""Process constants and the workflow status written into an order's metadata.

The status of an order only ever moves forward: every status has a rank and terminal statuses are final.
`replaceable_statuses` is the one place that rule lives: it lists the stored statuses an update may
replace, and the plugin's status route compares the order's stored status with that list in one
conditional statement in the database, so the rule holds however many writers race.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fulfillment.order_ids import OrderId

PROCESS_ID: Final = "order-fulfillment"
MESSAGE_NAME: Final = "order-placed"
# Published when the order is canceled in Medusa; interrupts the process (correlation key = order id).
CANCELED_MESSAGE_NAME: Final = "order-canceled"
BPMN_PATH: Final = Path(__file__).resolve().parent.parent / "bpmn" / "order-fulfillment.bpmn"

# The workflow keys, as the plugin stores them and mirrors them into the order's metadata.
KEY_INSTANCE: Final = "workflow_instance"
KEY_STATUS: Final = "workflow_status"
KEY_MESSAGE: Final = "workflow_message"
KEY_LAST_UPDATED: Final = "last_updated"
KEY_STEP: Final = "workflow_step"
WORKFLOW_KEYS: Final = (KEY_INSTANCE, KEY_STATUS, KEY_MESSAGE, KEY_LAST_UPDATED, KEY_STEP)

MESSAGE_MAX_LENGTH: Final = 1000
NOTIFICATION_REASON_MAX_LENGTH: Final = 500


class JobType(StrEnum):
    VERIFY_PAYMENT = "verify-payment"
    RESERVE_INVENTORY = "reserve-inventory"
    SEND_NOTIFICATION = "send-notification"
    FAIL_ORDER = "fail-order"
    RECORD_CANCELED = "record-canceled"


class BpmnErrorCode(StrEnum):
    PAYMENT_NOT_AUTHORIZED = "PAYMENT_NOT_AUTHORIZED"
    STOCK_MISSING = "STOCK_MISSING"
    ORDER_CANCELED = "ORDER_CANCELED"


class WorkflowStatus(StrEnum):
    """Where an order is in the process. `rank` orders them; terminal ones are final."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_VERIFIED = "payment_verified"
    INVENTORY_RESERVED = "inventory_reserved"
    COMPLETED = "completed"
    PAYMENT_FAILED = "payment_failed"
    OUT_OF_STOCK = "out_of_stock"
    # Medusa refused to cancel a failed order (a fulfillment exists, or it is completed): for staff.
    CANCEL_REFUSED = "cancel_refused"
    CANCELED = "canceled"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def terminal(self) -> bool:
        return self.rank >= TERMINAL_RANK


TERMINAL_RANK: Final = 100
_RANKS: Final[Mapping[WorkflowStatus, int]] = {
    # Waiting for the customer's payment: re-reported on every re-check (a repeat is refused as stale).
    WorkflowStatus.AWAITING_PAYMENT: 15,
    WorkflowStatus.PAYMENT_VERIFIED: 20,
    WorkflowStatus.INVENTORY_RESERVED: 30,
    WorkflowStatus.COMPLETED: TERMINAL_RANK,
    WorkflowStatus.PAYMENT_FAILED: TERMINAL_RANK,
    WorkflowStatus.OUT_OF_STOCK: TERMINAL_RANK,
    WorkflowStatus.CANCEL_REFUSED: TERMINAL_RANK,
    WorkflowStatus.CANCELED: TERMINAL_RANK,
}


class MailTemplate(StrEnum):
    """The customer mails the plugin sends (the shop's notification provider renders them)."""

    ORDER_CONFIRMATION = "order-confirmation"
    ORDER_CANCELED_PAYMENT = "order-canceled-payment"
    ORDER_CANCELED_STOCK = "order-canceled-stock"


class MailData(BaseModel):
    """What the worker adds to a mail: at most the reason. The plugin adds the order's own data (display id,
    items, total, what happened to the money) and its email, so no customer data travels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str | None = Field(default=None, min_length=1, max_length=NOTIFICATION_REASON_MAX_LENGTH)


class Notification(BaseModel):
    """The customer mail that goes with a status: sent by Medusa once the status is recorded, at most once
    per order and template (docs/contracts.md, the plugin's status route)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: MailTemplate
    data: MailData = Field(default_factory=MailData)


class StatusUpdate(BaseModel):
    """The body a worker sends to the status function for one state change of one order."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: OrderId
    process_instance_key: str = Field(pattern=r"^[0-9]{1,20}$")
    status: WorkflowStatus
    message: str = Field(max_length=MESSAGE_MAX_LENGTH)
    step: str | None = Field(default=None, max_length=100)
    occurred_at: datetime | None = None
    notification: Notification | None = None

    @field_validator("process_instance_key", mode="before")
    @classmethod
    def _key_as_text(cls, value: object) -> object:
        # Zeebe keys are 64-bit integers; JSON consumers lose precision above 2**53, so they travel as text.
        if isinstance(value, bool):
            raise ValueError("must be an integer or a string of digits")
        return str(value) if isinstance(value, int) else value

    @field_validator("occurred_at")
    @classmethod
    def _aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is past the last representable moment
            raise ValueError("must be a moment between the years 1 and 9999 in UTC") from None


def replaceable_statuses(status: WorkflowStatus) -> list[str | None]:
    """The stored `workflow_status` values an update to `status` may replace (None: no status stored yet).

    Only statuses of a lower rank, never a terminal one: an order never moves backwards, a terminal status
    is final, and a repeated status is not written again (a redelivery keeps the first message and time).
    """
    lower = [stored.value for stored in WorkflowStatus if not stored.terminal and stored.rank < status.rank]
    return [None, *lower]


def metadata_for(update: StatusUpdate, now: datetime | None = None) -> dict[str, Any]:
    """Exactly the metadata keys a status update writes; everything else on the order is left alone.

    `last_updated` is when the change happened (the worker's `occurred_at`); without `occurred_at` it is the
    time of writing.
    """
    happened = update.occurred_at or now or datetime.now(UTC)
    metadata: dict[str, Any] = {
        KEY_INSTANCE: update.process_instance_key,
        KEY_STATUS: update.status.value,
        KEY_MESSAGE: update.message,
        KEY_LAST_UPDATED: happened.astimezone(UTC).isoformat(),
    }
    if update.step:
        metadata[KEY_STEP] = update.step
    return metadata
