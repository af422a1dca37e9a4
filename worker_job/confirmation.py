"""The `send-notification` job: record the order completed, then tell the customer it is confirmed."""

from __future__ import annotations

import logging
from typing import Any

from fulfillment.workflow import JobType, WorkflowStatus
from worker_job.job_context import JobContext
from worker_job.notification import CONFIRMATION_TEMPLATE, confirmation
from worker_job.outcomes import order_canceled, stop_if_canceled
from worker_job.services import Services

logger = logging.getLogger(__name__)


def send_notification(ctx: JobContext, services: Services) -> dict[str, Any]:
    order = services.medusa.get_order(ctx.order_id)
    stop_if_canceled(ctx.order_id, order.status)
    template = ctx.header("template", CONFIRMATION_TEMPLATE)
    # Recorded before the mail: the status route decides under the order's lock and answers
    # order_canceled for an order staff canceled since the read above (which may be a reused answer), so
    # a canceled order is never confirmed to its customer.
    receipt = services.status.report(
        order_id=ctx.order_id,
        process_instance_key=ctx.process_instance_key,
        status=WorkflowStatus.COMPLETED,
        message=f"order confirmed; the customer is mailed ({template})",
        step=JobType.SEND_NOTIFICATION.value,
    )
    if receipt.order_canceled or receipt.workflow_status == WorkflowStatus.CANCELED.value:
        raise order_canceled(ctx.order_id)
    if receipt.workflow_status != WorkflowStatus.COMPLETED.value:
        # Another outcome is already recorded (a second process for the order): the customer hears it.
        logger.warning("no confirmation mail: the order's recorded status is not completed")
        return {"notification_sent": None, "notification_repeated": False}
    sent_now = services.notifier.send(confirmation(order, template))
    return {"notification_sent": template, "notification_repeated": not sent_now}
