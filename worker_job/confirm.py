"""A negative finding (stock missing, payment not authorized) is acted on only when a second read agrees.

Medusa's cancel workflow (`cancelOrderWorkflow`, @medusajs/core-flows order/workflows/cancel-order.js)
deletes the order's reservations, cancels its uncaptured payments and refunds the captured ones in
parallel, then marks its payment collections canceled, and only in its last step the order. A view read in
that window shows an open order without its stock or its payment: a cancel in progress, not a shortage or
a failed payment. So a step whose check fails reads the order again after a settle interval
(`OrderReader.settled_view`) and decides on that read:

- canceled by then: ORDER_CANCELED, as for any step that reads a canceled order;
- the check passes now (a cancel that failed and restored what it took): the step goes on;
- the check fails again, but the order's reservations or payments changed between the two reads (or the
  step sees another trace of a cancel): a technical fault, retried with the usual backoff; the cancel's
  `order-canceled` message meanwhile interrupts the job at the model's boundary event, and a cancel that
  never completes becomes an incident after the outage window, for a person, never a customer's mail;
- the same finding on an unchanged order: it stands and becomes the business outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from pyzeebe.errors import BusinessError

from fulfillment.orders import OrderView
from fulfillment.workflow import BpmnErrorCode
from worker_job.outcomes import stop_if_canceled
from worker_job.services import Services

logger = logging.getLogger(__name__)

T = TypeVar("T")

CANCELED_COLLECTION = "canceled"


class OrderBeingCanceled(Exception):
    """A technical fault: the order looks half canceled, so no business outcome may be read from it."""


def cancel_trace(order: OrderView) -> tuple[object, ...]:
    """What Medusa's cancel changes before it marks the order canceled."""
    return (
        sorted((r.id, r.quantity) for r in order.reservations),
        sorted((c.id, c.status, str(c.authorized_amount)) for c in order.payment_collections),
        order.payment_status,
    )


def payment_released(order: OrderView) -> bool:
    """Every payment collection is canceled while the order is open: Medusa's cancel marks them all
    canceled just before the order, and nothing else in Medusa cancels all of them (a payment the provider
    declined leaves its collection unpaid; a canceled order-edit collection leaves the first one). Seen
    after the settle interval, it is a cancel that is slow or stopped half way: a matter for a person (an
    incident once the retries run out), not an outcome for the customer."""
    collections = order.payment_collections
    return bool(collections) and all(collection.status == CANCELED_COLLECTION for collection in collections)


def _is_cancel(error: BusinessError) -> bool:
    return error.error_code == BpmnErrorCode.ORDER_CANCELED.value


def decide_on_settled_order(
    services: Services,
    first: OrderView,
    decide: Callable[[OrderView], T],
    *,
    cancel_sign: Callable[[OrderView], bool] = lambda _order: False,
) -> T:
    """`decide(first)`, or when it throws a business failure, `decide` on the order read again after the
    settle interval, with the rules of this module."""
    try:
        return decide(first)
    except BusinessError as finding:
        if _is_cancel(finding):
            raise
        failed = finding
    settle = services.orders.settle_seconds
    logger.info("checking a failure again after the settle interval", extra={"finding": failed.error_code})
    fresh = services.orders.settled_view(first.id)
    stop_if_canceled(first.id, fresh.status)
    try:
        return decide(fresh)
    except BusinessError as again:
        if _is_cancel(again):
            raise
        if cancel_trace(fresh) != cancel_trace(first):
            why = f"its reservations or payments changed within {settle:g} s while it stayed open"
        elif cancel_sign(fresh):
            why = "every payment of the open order is canceled"
        else:
            raise
        raise OrderBeingCanceled(
            f"order {first.id} is being canceled ({why}): not ended as {failed.error_code}; "
            "checked again when the job is retried"
        ) from again
