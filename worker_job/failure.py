"""fail-order: records the terminal status the model names, cancels the order in Medusa when the model says
so, and tells the customer what really happened.

Headers of the model's task: `cancel_order` ("true": Medusa's cancel workflow releases the reservations
and cancels the payment authorizations), `notify` ("true": mail the customer with `template`). The status
is written first (the route refuses writes to a canceled order), then the cancel, then the mail: each step
is idempotent, so a retry after a technical fault repeats nothing the customer sees.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fulfillment.medusa import OrderNotFound
from fulfillment.orders import MEDUSA_CANCELED_STATUS
from fulfillment.workflow import JobType, WorkflowStatus
from worker_job.job_context import JobContext, MissingJobVariable
from worker_job.notification import FAILURE_TEMPLATE, failure
from worker_job.services import Services

logger = logging.getLogger(__name__)

DEFAULT_REASON: Final = "The order could not be fulfilled."
# Set by the worker on the BPMN error it throws (the concrete cause, e.g. which item is not reserved).
DETAIL_VARIABLE: Final = "failure_detail"


def failure_status(ctx: JobContext) -> WorkflowStatus:
    raw = ctx.text_variable("failure_status")
    try:
        status = WorkflowStatus(raw or "")
    except ValueError:
        raise MissingJobVariable(f"failure_status must name a workflow status, got {raw!r}") from None
    if not status.terminal or status is WorkflowStatus.COMPLETED:
        raise MissingJobVariable(f"failure_status must be a terminal failure status, got {status.value!r}")
    return status


def failure_message(ctx: JobContext) -> str:
    reason = ctx.text_variable("failure_reason") or DEFAULT_REASON
    detail = ctx.text_variable(DETAIL_VARIABLE)
    return f"{reason} ({detail})" if detail else reason


def _flag(ctx: JobContext, name: str) -> bool:
    return ctx.header(name, "false").strip().lower() == "true"


def fail_order(ctx: JobContext, services: Services) -> dict[str, Any]:
    status = failure_status(ctx)
    cancel = _flag(ctx, "cancel_order")
    message = failure_message(ctx)
    services.status.report(
        order_id=ctx.order_id,
        process_instance_key=ctx.process_instance_key,
        status=status,
        message=f"{message} The order is canceled in Medusa." if cancel else message,
        step=JobType.FAIL_ORDER.value,
    )
    try:
        order = services.medusa.get_order(ctx.order_id)
    except OrderNotFound:
        logger.warning("order is gone from Medusa: nothing to cancel, no notification")
        return {"failure_reported": status.value}
    if cancel and order.status != MEDUSA_CANCELED_STATUS:
        services.medusa.cancel_order(ctx.order_id)
        logger.info("order canceled in Medusa: reservations and authorizations released")
    if _flag(ctx, "notify"):
        reason = ctx.text_variable("failure_reason") or DEFAULT_REASON
        template = ctx.header("template", FAILURE_TEMPLATE)
        services.notifier.send(failure(order, reason, template, canceled=cancel))
    return {"failure_reported": status.value, "order_canceled": cancel}
