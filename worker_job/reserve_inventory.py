"""reserve-inventory: Medusa's reservations must cover every line item whose inventory it manages.

Medusa reserves stock when the cart is completed (one reservation per line item and inventory item,
quantity x required quantity). This step checks those reservations, which come with the order's view (no
call of its own), and never reserves again: a second reservation would hold the stock twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fulfillment.orders import LineItem, OrderView, Reservation
from fulfillment.workflow import BpmnErrorCode, WorkflowStatus
from worker_job.confirm import decide_on_settled_order, payment_released
from worker_job.job_context import JobContext
from worker_job.outcomes import BusinessOutcome, stop_if_canceled
from worker_job.services import Services

logger = logging.getLogger(__name__)

# Reservations of a line item that are not tied to a known inventory item are counted under this key.
ANY_INVENTORY_ITEM = ""


@dataclass(frozen=True)
class Shortage:
    line_item_id: str
    title: str
    inventory_item_id: str
    needed: Decimal
    reserved: Decimal

    def describe(self) -> str:
        what = f"{self.title or self.line_item_id}"
        item = f" (inventory item {self.inventory_item_id})" if self.inventory_item_id else ""
        return f"{what}{item}: {self.reserved} of {self.needed} reserved"


def needs_stock(item: LineItem) -> bool:
    """Whether Medusa manages this line item's inventory (and so must hold a reservation for it).

    A custom line item without a variant holds no stock. When the variant could not be read (deleted, or
    not returned), the item is treated as managed: better to stop an order than ship what is not held.
    """
    if item.variant_id is None:
        return False
    if item.variant is None or item.variant.manage_inventory is None:
        return True
    return item.variant.manage_inventory


def needed_per_inventory_item(item: LineItem) -> dict[str, Decimal]:
    quantity = Decimal(item.open_quantity)
    if item.variant is None or not item.variant.inventory_items:
        return {ANY_INVENTORY_ITEM: quantity}
    return {
        link.inventory_item_id: quantity * link.required_quantity for link in item.variant.inventory_items
    }


def reserved_per_line_item(reservations: Iterable[Reservation]) -> Mapping[str, Mapping[str, Decimal]]:
    reserved: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for reservation in reservations:
        if reservation.line_item_id:
            reserved[reservation.line_item_id][reservation.inventory_item_id] += reservation.quantity
    return reserved


def find_shortages(items: Sequence[LineItem], reservations: Iterable[Reservation]) -> list[Shortage]:
    reserved = reserved_per_line_item(reservations)
    shortages = []
    for item in items:
        held = reserved.get(item.id, {})
        for inventory_item_id, needed in needed_per_inventory_item(item).items():
            have = (
                sum(held.values(), Decimal(0))
                if inventory_item_id == ANY_INVENTORY_ITEM
                else (held.get(inventory_item_id, Decimal(0)))
            )
            if have < needed:
                shortages.append(Shortage(item.id, item.title, inventory_item_id, needed, have))
    return shortages


def stocked_items(order: OrderView) -> list[LineItem]:
    return [item for item in order.items if needs_stock(item) and item.open_quantity > 0]


def reserve_inventory(ctx: JobContext, services: Services) -> dict[str, Any]:
    order = services.orders.recent_view(ctx.order_id)

    def decide(order: OrderView) -> dict[str, Any]:
        return _check_stock(ctx, services, order)

    # Stock missing is confirmed on a second read: Medusa's cancel deletes the reservations first.
    return decide_on_settled_order(services, order, decide, cancel_sign=payment_released)


def _check_stock(ctx: JobContext, services: Services, order: OrderView) -> dict[str, Any]:
    stop_if_canceled(ctx.order_id, order.status)
    items = stocked_items(order)
    shortages = find_shortages(items, order.reservations)
    if shortages:
        reason = "not reserved: " + "; ".join(shortage.describe() for shortage in shortages)
        logger.info("stock missing", extra={"shortages": len(shortages), "reason": reason})
        policy = services.policy.stock(ctx)
        raise BusinessOutcome(BpmnErrorCode.STOCK_MISSING, reason, stock_policy=policy.value)
    message = (
        f"reservations cover {len(items)} stocked line item(s)"
        if items
        else "no line item needs reserved stock"
    )
    services.status.report(ctx, WorkflowStatus.INVENTORY_RESERVED, message)
    return {"stocked_line_items": len(items)}
