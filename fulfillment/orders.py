"""Orders as the plugin shows them: the signed `order.placed` / `order.canceled` events, and the order view
the plugin's `view` route answers (docs/contracts.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Generic, TypeVar, get_origin

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, StrictInt
from pydantic_core import CoreSchema, core_schema

from fulfillment.order_ids import OrderId

ORDER_PLACED_EVENT: Final = "order.placed"
ORDER_CANCELED_EVENT: Final = "order.canceled"
# Medusa's order status after its cancel workflow ran (stock and payment authorizations released).
MEDUSA_CANCELED_STATUS: Final = "canceled"


class _EmptyIfNull:
    """Validates null as the empty value of the annotated type: [], {} or ""."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        empty = get_origin(source) or source
        return core_schema.no_info_before_validator_function(
            lambda value: empty() if value is None else value, handler(source)
        )


# Medusa answers `null` for a relation, a mapping or a text nobody filled in (and the plugin passes it on);
# an empty one reads more simply: `NullAsEmpty[list[LineItem]]`, `NullAsEmpty[str]`.
T = TypeVar("T")
NullAsEmpty = Annotated[T, _EmptyIfNull()]


class _Snapshot(BaseModel):
    # The plugin and Medusa add fields between versions; a snapshot keeps what the workflow needs.
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- the signed events ------------------------------------------------------------------------------------


class WebhookEnvelope(BaseModel):
    """The part of any webhook body that is read before the event type is known."""

    model_config = ConfigDict(extra="ignore")

    type: str


class OrderPlacedData(_Snapshot):
    """What the plugin read of the placed order and signed: all the process starts with. The plugin signs
    only after reading the order, so the function trusts it and makes no call to Medusa."""

    id: OrderId
    display_id: int | None
    currency_code: NullAsEmpty[str]
    total: Decimal
    created_at: datetime
    # The order's stored workflow status (None when no process has reported yet).
    workflow_status: str | None
    # Set only by the admin's "Restart workflow": the restart's number for this order (1, 2, ...), after
    # Camunda confirmed that no instance runs for it. A restart gets its own message id.
    restart: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None

    def start_message_id(self) -> str:
        """The `order-placed` message id: the order id, or `<order id>.restart-<n>` for a restart (Zeebe
        refuses a message id it still buffers, and the first start's message may still be buffered)."""
        return f"{self.id}.restart-{self.restart}" if self.restart else self.id

    def process_variables(self) -> dict[str, Any]:
        """The variables the process starts with: identifiers and totals, never customer data."""
        return {
            "order_id": self.id,
            "display_id": self.display_id,
            "currency_code": self.currency_code,
            # JSON numbers, so FEEL expressions in the model can compare amounts.
            "total": float(self.total),
            "created_at": self.created_at.isoformat(),
        }


class OrderCanceledData(_Snapshot):
    id: OrderId
    # Medusa's order status as the plugin read it before signing (`canceled` for a real cancellation).
    status: str


DataT = TypeVar("DataT", OrderPlacedData, OrderCanceledData)


class OrderEvent(BaseModel, Generic[DataT]):
    """A signed order event, `{"type", "occurred_at", "data"}`: `OrderEvent[OrderPlacedData]` for
    `order.placed`, `OrderEvent[OrderCanceledData]` for `order.canceled`."""

    model_config = ConfigDict(extra="ignore")

    type: str
    # When it happened in Medusa (the order's creation, its cancellation): for the log line only, never
    # for a decision, so an event signed without it is still taken.
    occurred_at: datetime | None = None
    data: DataT


# --- the plugin's order view ------------------------------------------------------------------------------


class PaymentCollection(_Snapshot):
    id: str
    status: NullAsEmpty[str]
    amount: Decimal
    authorized_amount: Decimal | None = None
    captured_amount: Decimal | None = None


class VariantInventoryItem(_Snapshot):
    inventory_item_id: str
    required_quantity: int = Field(default=1, ge=1)


class Variant(_Snapshot):
    manage_inventory: bool | None = None
    inventory_items: NullAsEmpty[list[VariantInventoryItem]] = Field(default_factory=list)


class ItemDetail(_Snapshot):
    fulfilled_quantity: int = 0


class LineItem(_Snapshot):
    id: str
    title: NullAsEmpty[str] = ""
    variant_id: str | None = None
    variant_sku: str | None = None
    quantity: int
    # Medusa keeps the order-specific part of a line item (e.g. the fulfilled quantity) in `detail`.
    detail: ItemDetail | None = None
    # None: a custom item, or a variant that was deleted since.
    variant: Variant | None = None

    @property
    def open_quantity(self) -> int:
        """Units not fulfilled yet: a fulfillment consumes its reservations."""
        fulfilled = self.detail.fulfilled_quantity if self.detail else 0
        return max(0, self.quantity - fulfilled)


class Reservation(_Snapshot):
    id: str = ""
    line_item_id: str | None = None
    inventory_item_id: str = ""
    location_id: str | None = None
    quantity: Decimal


class OrderView(_Snapshot):
    """The plugin's `view` answer: the order as the worker needs it for every step, in one read. No email,
    address or name: the worker decides on payment and stock; the mail is rendered inside Medusa."""

    id: OrderId
    display_id: int | None = None
    status: NullAsEmpty[str]
    currency_code: NullAsEmpty[str]
    total: Decimal
    created_at: datetime | None = None
    payment_status: str | None
    payment_collections: NullAsEmpty[list[PaymentCollection]]
    items: NullAsEmpty[list[LineItem]]
    reservations: NullAsEmpty[list[Reservation]]
    # The order's workflow keys (`workflow_status`, ...), as the status route stored them.
    workflow: NullAsEmpty[dict[str, Any]] = Field(default_factory=dict)


class ViewAnswer(_Snapshot):
    """The `view` route's whole answer."""

    order: OrderView
