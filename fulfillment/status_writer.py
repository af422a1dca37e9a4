"""Writing a workflow status into an order's metadata without ever moving the order backwards.

One call to the plugin's status route per status: it sends the workflow's keys and the stored statuses
they may replace (`workflow.replaceable_statuses`); the route compares and writes in one conditional
statement in the database, so concurrent writers, in one Medusa process or many, cannot move an order
back. Only the workflow's keys are written (and mirrored into the order's metadata); whatever other
writers stored on the order survives. A customer mail asked
for with the status travels in the same call, and Medusa sends it only once the status is recorded.
"""

from __future__ import annotations

import logging

from fulfillment.medusa import MedusaClient, StatusWriteAnswer
from fulfillment.workflow import (
    StatusUpdate,
    WorkflowStatus,
    metadata_for,
    replaceable_statuses,
)

logger = logging.getLogger(__name__)


def record_status(medusa: MedusaClient, update: StatusUpdate) -> StatusWriteAnswer:
    """Applies `update` to the order's metadata when it moves the order forward.

    A stale update and an update of a canceled order are reported as not applied with a reason, not as an
    error: retrying can never succeed and the worker must not retry forever. Raises OrderNotFound and
    MedusaUnavailable.
    """
    written = medusa.write_status(
        update.order_id, metadata_for(update), replaceable_statuses(update.status), update.notification
    )
    stored = written.workflow_status
    if written.applied:
        logger.info("status applied", extra={"workflow_status": update.status.value, "step": update.step})
    else:
        # Ranks decide, never clocks: a refusal of an update that is not behind the stored status (e.g.
        # `completed` after `canceled`) means two outcomes raced; someone should look at that order.
        log = logger.warning if _not_behind(update.status, stored) else logger.info
        log(
            "status not applied",
            extra={"reason": written.reason, "stored_status": stored, "update_status": update.status.value},
        )
    if update.notification is not None and written.notification is not None:
        logger.info(
            "customer mail %s",
            "sent" if written.notification.sent else "not sent",
            extra={
                "template": update.notification.template.value,
                "mail_reason": written.notification.reason,
            },
        )
    return written


def _not_behind(update: WorkflowStatus, stored: str | None) -> bool:
    """True when `update` is another status of at least the stored one's rank (a repeat is behind)."""
    try:
        current = WorkflowStatus(str(stored))
    except ValueError:
        return False
    return current is not update and update.rank >= current.rank
