"""The `send-notification` job: record the order completed, with the confirmation mail in the same write.

No read of the order: the status route reads the order's status in Medusa as it writes, answers
`order_canceled` for an order staff canceled since the worker's last read (so a canceled order is never
confirmed to its customer), and Medusa sends the mail only once the status is recorded, at most once per
order and template, so a job run again after a lost answer mails nobody twice.
"""

from __future__ import annotations

import logging
from typing import Any

from fulfillment.workflow import MailTemplate, Notification, WorkflowStatus
from worker_job.job_context import JobContext
from worker_job.mail import mail_template
from worker_job.outcomes import order_canceled
from worker_job.services import Services

logger = logging.getLogger(__name__)


def send_notification(ctx: JobContext, services: Services) -> dict[str, Any]:
    template = mail_template(ctx, MailTemplate.ORDER_CONFIRMATION)
    answer = services.status.report(
        ctx,
        WorkflowStatus.COMPLETED,
        f"order confirmed; the customer is mailed ({template.value})",
        Notification(template=template),
    )
    if answer.order_canceled or answer.workflow_status == WorkflowStatus.CANCELED.value:
        raise order_canceled(ctx.order_id)
    if answer.workflow_status != WorkflowStatus.COMPLETED.value:
        # Another outcome is already recorded (a second process for the order): the customer hears that.
        logger.warning("no confirmation mail: the order's recorded status is not completed")
        return {"notification_sent": None, "notification_repeated": False}
    repeated = answer.notification is not None and answer.notification.reason == "duplicate"
    return {"notification_sent": template.value, "notification_repeated": repeated}
