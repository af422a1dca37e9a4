"""Reads of an order that need more fields than the shared snapshot (`fulfillment.orders.Order`) carries.

Payment collections (amounts authorized and captured) and each line item's variant (whether Medusa manages
its inventory, and how many units of which inventory item one unit needs) are asked for explicitly with
`fields=`, the way Medusa's own admin dashboard asks for them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fulfillment.medusa import MedusaClient

PAYMENT_FIELDS: Final = "id,display_id,status,currency_code,total,payment_status,*payment_collections"
INVENTORY_FIELDS: Final = "id,status,*items,*items.variant,*items.variant.inventory_items"


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
    """The shared Medusa client plus the two reads only the worker needs."""

    def get_order_payment(self, order_id: str) -> OrderPayment:
        return OrderPayment.model_validate(self.get_order_fields(order_id, PAYMENT_FIELDS))

    def get_order_inventory(self, order_id: str) -> OrderInventory:
        return OrderInventory.model_validate(self.get_order_fields(order_id, INVENTORY_FIELDS))
