"""verify-payment: the order's payment must be authorized or captured and cover the order total."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from pyzeebe.errors import BusinessError

from fulfillment.workflow import BpmnErrorCode, JobType, WorkflowStatus
from worker_job.job_context import JobContext
from worker_job.order_reads import OrderPayment, PaymentCollection
from worker_job.services import Services

logger = logging.getLogger(__name__)

DEFAULT_ACCEPTED_STATUSES: Final = "authorized,captured"
# Collections that hold no money any more do not count towards the total.
VOID_COLLECTION_STATUSES: Final = frozenset({"canceled", "failed"})


class PaymentDataMissing(Exception):
    """Medusa's answer lacks the payment collections: retried, then an incident for a person to look at."""


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


def check_payment(order: OrderPayment, accepted_statuses: frozenset[str]) -> PaymentCheck:
    currency = order.currency_code.upper()
    if order.payment_status not in accepted_statuses:
        expected = " or ".join(sorted(accepted_statuses))
        return PaymentCheck(False, f"payment status is {order.payment_status!r}, expected {expected}")
    if order.payment_collections is None:
        raise PaymentDataMissing(f"order {order.id}: Medusa returned no payment_collections")
    secured = sum((secured_amount(c) for c in order.payment_collections), Decimal(0))
    if secured < order.total:
        return PaymentCheck(False, f"only {secured} of {order.total} {currency} is authorized")
    return PaymentCheck(True, f"payment {order.payment_status}: {secured} {currency} covers the total")


def verify_payment(ctx: JobContext, services: Services) -> dict[str, Any]:
    """Reports payment_verified, or throws PAYMENT_NOT_AUTHORIZED (fail-order then reports payment_failed).

    No separate `started` report: it would cost one status write per order (a sixth of the Medusa calls)
    to show a state that lasts a few hundred milliseconds; the message TTL guards against redeliveries
    until the first status lands.
    """
    step = JobType.VERIFY_PAYMENT.value
    order = services.medusa.get_order_payment(ctx.order_id)
    accepted = parse_statuses(ctx.header("accepted_payment_statuses", DEFAULT_ACCEPTED_STATUSES))
    check = check_payment(order, accepted)
    if not check.authorized:
        logger.info("payment not authorized", extra={"reason": check.reason})
        raise BusinessError(BpmnErrorCode.PAYMENT_NOT_AUTHORIZED.value, check.reason)
    services.status.report(
        order_id=ctx.order_id,
        process_instance_key=ctx.process_instance_key,
        status=WorkflowStatus.PAYMENT_VERIFIED,
        message=check.reason,
        step=step,
    )
    return {"payment_status": order.payment_status}
