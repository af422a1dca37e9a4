"""The `send-notification` job: tell the customer the order is confirmed, then report it completed."""

from __future__ import annotations

from typing import Any

from fulfillment.workflow import JobType, WorkflowStatus
from worker_job.job_context import JobContext
from worker_job.notification import CONFIRMATION_TEMPLATE, confirmation
from worker_job.services import Services


def send_notification(ctx: JobContext, services: Services) -> dict[str, Any]:
    order = services.medusa.get_order(ctx.order_id)
    template = ctx.header("template", CONFIRMATION_TEMPLATE)
    sent_now = services.notifier.send(confirmation(order, template))
    services.status.report(
        order_id=ctx.order_id,
        process_instance_key=ctx.process_instance_key,
        status=WorkflowStatus.COMPLETED,
        message=f"customer notified ({template})",
        step=JobType.SEND_NOTIFICATION.value,
    )
    return {"notification_sent": template, "notification_repeated": not sent_now}
