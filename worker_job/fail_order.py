"""fail-order: ends a failed order in the terminal status the model names, and tells the customer only what
really happened.

Headers of the model's task: `cancel_order` ("true": the order is canceled in Medusa first) and `notify`
("true": the customer gets the mail `template`). With `cancel_order` the plugin's cancel route runs
Medusa's cancel workflow before anything is recorded, so the status never says canceled before Medusa did:

- canceled (now or before): the failure status (`payment_failed`, `out_of_stock`) is written with the
  mail folded into that one write; the plugin's mail says what happened to the money. `already_canceled`
  keeps the mail: the failure was confirmed on two reads of an open order (worker_job/confirm.py), so it is
  not the trace of a staff cancel, and the answer is the same for this job's own cancel retried after a
  lost answer, whose mail must not be lost.
- refused (a fulfillment exists, the order is completed): `cancel_refused` with Medusa's reason, for staff,
  at once and without a mail. Retrying could never change Medusa's answer, so the job completes.

Without `cancel_order` the order is held for staff: the failure status, and a mail only with `notify`.
Each step is idempotent: a job run again after a lost answer cancels nothing twice (`already_canceled`)
and mails nobody twice (the plugin sends a template at most once per order). A technical fault, a 401 of
the plugin among them, fails the job and is retried like any outage; it is never read as an outcome.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fulfillment.medusa import CancelOutcome
from fulfillment.workflow import (
    NOTIFICATION_REASON_MAX_LENGTH,
    MailData,
    Notification,
    WorkflowStatus,
)
from worker_job.job_context import JobContext, MissingJobVariable
from worker_job.mail import mail_template
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
    if not status.terminal or status in (WorkflowStatus.COMPLETED, WorkflowStatus.CANCEL_REFUSED):
        raise MissingJobVariable(f"failure_status must be a terminal failure status, got {status.value!r}")
    return status


def failure_reason(ctx: JobContext) -> str:
    """The reason the model names for the customer (without the worker's technical detail)."""
    return ctx.text_variable("failure_reason") or DEFAULT_REASON


def failure_message(ctx: JobContext) -> str:
    """The reason with the cause the worker attached to the BPMN error, for staff."""
    detail = ctx.text_variable(DETAIL_VARIABLE)
    return f"{failure_reason(ctx)} ({detail})" if detail else failure_reason(ctx)


def _flag(ctx: JobContext, name: str) -> bool:
    return ctx.header(name, "false").strip().lower() == "true"


def _mail(ctx: JobContext) -> Notification | None:
    if not _flag(ctx, "notify"):
        return None
    reason = failure_reason(ctx)[:NOTIFICATION_REASON_MAX_LENGTH]
    return Notification(template=mail_template(ctx), data=MailData(reason=reason))


def _money(cancel: CancelOutcome) -> str:
    if cancel.captured_amount <= 0:
        return "no money was captured"
    return f"{cancel.refunded_amount} of {cancel.captured_amount} captured is refunded"


def fail_order(ctx: JobContext, services: Services) -> dict[str, Any]:
    status = failure_status(ctx)
    mail = _mail(ctx)  # a wrong template header fails the job before Medusa is asked anything
    message = failure_message(ctx)
    if _flag(ctx, "cancel_order"):
        cancel = services.medusa.cancel_order(ctx.order_id)
        if cancel.outcome == "refused":
            return _cancel_refused(ctx, services, message, cancel)
        logger.info("order canceled in Medusa", extra={"cancel_outcome": cancel.outcome})
        message = f"{message} The order is canceled in Medusa; {_money(cancel)}."
    services.status.report(ctx, status, message, mail)
    return {"failure_reported": status.value, "order_canceled": _flag(ctx, "cancel_order")}


def _cancel_refused(
    ctx: JobContext, services: Services, message: str, cancel: CancelOutcome
) -> dict[str, Any]:
    reason = cancel.reason or "no reason given"
    logger.warning("Medusa refused to cancel the failed order", extra={"reason": reason})
    refused = f"{message} Medusa refused to cancel the order: {reason}"
    services.status.report(ctx, WorkflowStatus.CANCEL_REFUSED, refused)
    return {"failure_reported": WorkflowStatus.CANCEL_REFUSED.value, "order_canceled": False}
