"""Order snapshots read from Medusa's Admin API and the `order.placed` webhook body."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Medusa order ids are `order_` followed by a ULID; only letters and digits are accepted so an id can be
# placed into a URL path without escaping.
ORDER_ID_PATTERN: Final = r"^order_[A-Za-z0-9]+$"
ORDER_ID_MAX_LENGTH: Final = 64
_ORDER_ID_RE: Final = re.compile(ORDER_ID_PATTERN)

ORDER_PLACED_EVENT: Final = "order.placed"
ORDER_CANCELED_EVENT: Final = "order.canceled"
# Medusa's order status after its cancel workflow ran (stock and payment authorizations released).
MEDUSA_CANCELED_STATUS: Final = "canceled"

OrderId = Annotated[str, Field(pattern=ORDER_ID_PATTERN, max_length=ORDER_ID_MAX_LENGTH)]


def is_order_id(value: object) -> bool:
    """True when `value` looks like a Medusa order id (and is safe to put into a URL path)."""
    return (
        isinstance(value, str)
        and len(value) <= ORDER_ID_MAX_LENGTH
        and _ORDER_ID_RE.fullmatch(value) is not None
    )


class _Snapshot(BaseModel):
    # Medusa adds fields between versions; a snapshot keeps what the workflow needs and ignores the rest.
    model_config = ConfigDict(extra="ignore", frozen=True)


class LineItem(_Snapshot):
    id: str
    variant_id: str | None = None
    product_id: str | None = None
    variant_sku: str | None = None
    title: str = ""
    quantity: int
    unit_price: Decimal = Decimal(0)


class Order(_Snapshot):
    """What the fulfillment workflow reads of an order (`GET /admin/orders/{id}` with `ORDER_FIELDS`)."""

    id: OrderId
    display_id: int | None = None
    email: str | None = None
    currency_code: str = ""
    status: str = ""
    payment_status: str | None = None
    total: Decimal = Decimal(0)
    items: list[LineItem] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata", mode="before")
    @classmethod
    def _null_metadata_is_empty(cls, value: object) -> object:
        # Medusa returns `"metadata": null` for an order nobody has annotated yet.
        return {} if value is None else value

    @field_validator("items", mode="before")
    @classmethod
    def _null_items_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    def process_variables(self) -> dict[str, Any]:
        """The variables the process starts with: identifiers and totals only, never secrets or addresses."""
        return {
            "order_id": self.id,
            "display_id": self.display_id,
            "email": self.email,
            "currency_code": self.currency_code,
            # JSON numbers, so FEEL expressions in the model can compare amounts.
            "total": float(self.total),
        }


class WebhookEnvelope(BaseModel):
    """The part of any webhook body that is read before the event type is known."""

    model_config = ConfigDict(extra="ignore")

    type: str


class OrderReference(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: OrderId


class OrderPlacedEvent(BaseModel):
    """`{"type": "order.placed" | "order.canceled", "timestamp": "<ISO 8601>", "data": {"id": "order_..."}}`.

    Only `data.id` is trusted: the order itself is always fetched from Medusa by that id.
    """

    model_config = ConfigDict(extra="ignore")

    type: str = ORDER_PLACED_EVENT
    timestamp: datetime | None = None
    data: OrderReference

    @property
    def order_id(self) -> str:
        return self.data.id
