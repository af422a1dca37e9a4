"""fail-order: reports the terminal failure status named by the model and tells the customer."""

from __future__ import annotations

import logging
from typing import Any, Final

from fulfillment.medusa import OrderNotFound
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


def fail_order(ctx: JobContext, services: Services) -> dict[str, Any]:
    status = failure_status(ctx)
    message = failure_message(ctx)
    # The status comes first: the order's state is what staff act on, the mail is a courtesy on top.
    services.status.report(
        order_id=ctx.order_id,
        process_instance_key=ctx.process_instance_key,
        status=status,
        message=message,
        step=JobType.FAIL_ORDER.value,
    )
    template = ctx.header("template", FAILURE_TEMPLATE)
    try:
        order = services.medusa.get_order(ctx.order_id)
    except OrderNotFound:
        logger.warning("order is gone from Medusa: no failure notification")
        return {"failure_reported": status.value}
    services.notifier.send(failure(order, ctx.text_variable("failure_reason") or DEFAULT_REASON, template))
    return {"failure_reported": status.value}
