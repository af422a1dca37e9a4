"""The worker's one read of an order, which serves every step of its process.

One `GET /admin/orders/{id}` asks with `fields=` for all the steps need, the way Medusa's own admin
dashboard asks: payment collections (amounts authorized and captured), each line item with its variant
(whether Medusa manages its inventory, how many units of which inventory item one unit needs), and what
the customer's notification names (email, display id, items, total). Each step reads its own view of that
one answer: `OrderPayment`, `OrderInventory`, or the shared `fulfillment.orders.Order`.

verify-payment always reads afresh (a payment can change until it is checked). The later steps of the
same order reuse that answer while it is younger than `reuse_seconds`: the parts they read (line items,
variants, email) do not change within seconds, and the stock itself is checked on fresh reservations. A
worker that did not make the first read, or a retry after the answer aged, reads again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fulfillment.medusa import MedusaClient
from fulfillment.orders import Order

ORDER_READ_FIELDS: Final = ",".join(
    (
        "id,display_id,status,currency_code,total,payment_status,+email,metadata",
        "*payment_collections",
        "*items,*items.variant,*items.variant.inventory_items",
    )
)
# A process runs its steps within about a second; a minute leaves room for a busy shop without letting a
# retry hours later (after an incident) act on an old answer.
DEFAULT_REUSE_SECONDS: Final = 60.0
# Orders whose answer is kept at once (the oldest is dropped first): far above the worker's running jobs.
REUSE_CAPACITY: Final = 1024


class _Snapshot(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PaymentCollection(_Snapshot):
    id: str = ""
    status: str = ""
    amount: Decimal = Decimal(0)
    authorized_amount: Decimal | None = None
    captured_amount: Decimal | None = None
    refunded_amount: Decimal | None = None


class OrderPayment(_Snapshot):
    id: str
    display_id: int | None = None
    status: str = ""
    currency_code: str = ""
    total: Decimal = Decimal(0)
    payment_status: str | None = None
    payment_collections: list[PaymentCollection] | None = None


class VariantInventoryItem(_Snapshot):
    inventory_item_id: str
    required_quantity: int = Field(default=1, ge=1)


class Variant(_Snapshot):
    manage_inventory: bool | None = None
    inventory_items: list[VariantInventoryItem] = Field(default_factory=list)

    @field_validator("inventory_items", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class ItemDetail(_Snapshot):
    fulfilled_quantity: int = 0


class StockedLineItem(_Snapshot):
    id: str
    title: str = ""
    variant_id: str | None = None
    quantity: int
    variant: Variant | None = None
    # Medusa returns the order-specific part of a line item (e.g. fulfilled quantity) as `detail`.
    detail: ItemDetail | None = None

    @property
    def open_quantity(self) -> int:
        """Units not fulfilled yet: a fulfillment consumes its reservations."""
        fulfilled = self.detail.fulfilled_quantity if self.detail else 0
        return max(0, self.quantity - fulfilled)


class OrderInventory(_Snapshot):
    id: str
    status: str = ""
    items: list[StockedLineItem] = Field(default_factory=list)

    @field_validator("items", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class OrderReader(MedusaClient):
    """The shared Medusa client plus the worker's one order read, reused by the steps after the first."""

    def __init__(
        self,
        *args: Any,
        reuse_seconds: float = DEFAULT_REUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._reuse_seconds = reuse_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def get_order_payment(self, order_id: str) -> OrderPayment:
        """Always a fresh read (which the later steps then reuse)."""
        return OrderPayment.model_validate(self._read(order_id))

    def get_order_inventory(self, order_id: str) -> OrderInventory:
        return OrderInventory.model_validate(self._recent(order_id))

    def get_order(self, order_id: str) -> Order:
        return Order.model_validate(self._recent(order_id))

    def _recent(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            kept = self._answers.get(order_id)
        if kept is not None and self._clock() - kept[0] < self._reuse_seconds:
            return kept[1]
        return self._read(order_id)

    def _read(self, order_id: str) -> dict[str, Any]:
        read_at = self._clock()
        answer = self.get_order_fields(order_id, ORDER_READ_FIELDS)
        with self._lock:
            self._answers[order_id] = (read_at, answer)
            self._answers.move_to_end(order_id)
            while len(self._answers) > REUSE_CAPACITY:
                self._answers.popitem(last=False)
        return answer
