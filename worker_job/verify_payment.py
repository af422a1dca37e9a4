"""verify-payment: the order's payment must be authorized or captured and cover the order total.

A zero-total order needs no payment. An order not paid yet (a converted draft order, a payment that needs
the customer's action) is `awaiting_payment`: the model waits `payment_recheck_interval` and asks again,
until `payment_max_wait` after the first check; only then is it a payment failure. An order canceled in
Medusa meanwhile ends as `canceled`, never as a payment failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from pyzeebe.errors import BusinessError

from fulfillment.orders import OrderView, PaymentCollection
from fulfillment.workflow import BpmnErrorCode, WorkflowStatus
from worker_job.confirm import decide_on_settled_order
from worker_job.job_context import JobContext
from worker_job.outcomes import stop_if_canceled
from worker_job.policy import iso_duration
from worker_job.services import Services

logger = logging.getLogger(__name__)

DEFAULT_ACCEPTED_STATUSES: Final = "authorized,captured"
DEFAULT_PENDING_STATUSES: Final = "not_paid,awaiting,requires_action"
# Collections that hold no money any more do not count towards the total.
VOID_COLLECTION_STATUSES: Final = frozenset({"canceled", "failed"})


@dataclass(frozen=True)
class PaymentCheck:
    authorized: bool
    reason: str


def parse_statuses(header: str) -> frozenset[str]:
    return frozenset(part.strip() for part in header.split(",") if part.strip())


def secured_amount(collection: PaymentCollection) -> Decimal:
    """Money held for the order by one collection: what is captured, or at least authorized."""
    if collection.status in VOID_COLLECTION_STATUSES:
        return Decimal(0)
    return max(collection.authorized_amount or Decimal(0), collection.captured_amount or Decimal(0))


def needs_no_payment(order: OrderView) -> bool:
    """A zero-total order (a full discount, free items) needs no payment. Medusa also reports a total of 0
    for an order whose money was refunded, so an order with a collection that asked for money never is."""
    return order.total == 0 and all(collection.amount == 0 for collection in order.payment_collections)


def check_payment(order: OrderView, accepted_statuses: frozenset[str]) -> PaymentCheck:
    currency = order.currency_code.upper()
    if order.payment_status not in accepted_statuses:
        expected = " or ".join(sorted(accepted_statuses))
        return PaymentCheck(False, f"payment status is {order.payment_status!r}, expected {expected}")
    secured = sum((secured_amount(c) for c in order.payment_collections), Decimal(0))
    if secured < order.total:
        return PaymentCheck(False, f"only {secured} of {order.total} {currency} is authorized")
    return PaymentCheck(True, f"payment {order.payment_status}: {secured} {currency} covers the total")


def _payment_deadline(ctx: JobContext, services: Services, now: datetime) -> datetime:
    """When the wait for this order's payment ends: set on the first check, carried by the process."""
    raw = ctx.text_variable("payment_deadline")
    if raw:
        try:
            deadline = datetime.fromisoformat(raw)
        except ValueError:
            deadline = None
        if deadline is not None and deadline.tzinfo is not None:
            return deadline
    return now + services.policy.max_wait(ctx)


def _awaiting(ctx: JobContext, services: Services, order: OrderView) -> dict[str, Any]:
    now = datetime.now(UTC)
    deadline = _payment_deadline(ctx, services, now)
    if now >= deadline:
        waited = iso_duration(services.policy.max_wait(ctx))
        reason = f"payment status is still {order.payment_status!r} after waiting {waited}"
        logger.info("payment never arrived", extra={"reason": reason})
        raise BusinessError(BpmnErrorCode.PAYMENT_NOT_AUTHORIZED.value, reason)
    interval = services.policy.recheck_interval(ctx)
    services.status.report(
        ctx,
        WorkflowStatus.AWAITING_PAYMENT,
        f"payment status {order.payment_status!r}: waiting for it until {deadline.isoformat()}",
    )
    return {
        "payment_outcome": "awaiting",
        "payment_recheck_interval": iso_duration(interval),
        "payment_deadline": deadline.isoformat(),
    }


def verify_payment(ctx: JobContext, services: Services) -> dict[str, Any]:
    """Reports payment_verified or awaiting_payment, or throws PAYMENT_NOT_AUTHORIZED / ORDER_CANCELED.

    No `started` report: it would cost one more Medusa call per order (five instead of four) to show a
    state that lasts a few hundred milliseconds; the message TTL guards against redeliveries until the
    first status lands. A payment failure is confirmed on a second read (worker_job/confirm.py): Medusa's
    cancel cancels the payments before it marks the order canceled.
    """
    order = services.orders.view_order(ctx.order_id)

    def decide(order: OrderView) -> dict[str, Any]:
        return _check_payment(ctx, services, order)

    return decide_on_settled_order(services, order, decide)


def _check_payment(ctx: JobContext, services: Services, order: OrderView) -> dict[str, Any]:
    stop_if_canceled(ctx.order_id, order.status)
    pending = parse_statuses(ctx.header("pending_payment_statuses", DEFAULT_PENDING_STATUSES))
    if needs_no_payment(order):
        check = PaymentCheck(True, "the order total is zero: no payment needed")
    elif order.payment_status in pending:
        return _awaiting(ctx, services, order)
    else:
        accepted = parse_statuses(ctx.header("accepted_payment_statuses", DEFAULT_ACCEPTED_STATUSES))
        check = check_payment(order, accepted)
    if not check.authorized:
        logger.info("payment not authorized", extra={"reason": check.reason})
        raise BusinessError(BpmnErrorCode.PAYMENT_NOT_AUTHORIZED.value, check.reason)
    services.status.report(ctx, WorkflowStatus.PAYMENT_VERIFIED, check.reason)
    return {"payment_status": order.payment_status, "payment_outcome": "verified"}
