"""Writing a workflow status into an order's metadata without ever moving the order backwards.

One call to the plugin's status route per status: it sends the workflow's keys and the stored statuses
they may replace (`workflow.replaceable_statuses`); the route compares and writes under a per-order lock
of Medusa's Locking Module, so concurrent writers, in one process or many, cannot interleave. Only the
workflow's keys are written; whatever other writers stored on the order survives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from fulfillment.medusa import MedusaClient
from fulfillment.workflow import KEY_STATUS, StatusUpdate, metadata_for, replaceable_statuses

logger = logging.getLogger(__name__)

NotAppliedReason = Literal["stale", "order_canceled"]


@dataclass(frozen=True)
class StatusOutcome:
    order_id: str
    applied: bool
    workflow_status: str | None  # the status stored on the order after this call
    reason: NotAppliedReason | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "order_id": self.order_id,
            "applied": self.applied,
            "workflow_status": self.workflow_status,
        }
        if self.reason:
            body["reason"] = self.reason
        return body


def record_status(medusa: MedusaClient, update: StatusUpdate) -> StatusOutcome:
    """Applies `update` to the order's metadata when it moves the order forward.

    A stale update and an update of a canceled order are reported as not applied with a reason, not as an
    error: retrying can never succeed and the worker must not retry forever. Raises OrderNotFound and
    MedusaUnavailable.
    """
    written = medusa.write_workflow_status(
        update.order_id, metadata_for(update), replaceable_statuses(update.status)
    )
    stored = written.metadata.get(KEY_STATUS)
    if written.applied:
        logger.info("status applied", extra={"workflow_status": update.status.value, "step": update.step})
    else:
        logger.info(
            "status not applied",
            extra={"reason": written.reason, "stored_status": stored, "update_status": update.status.value},
        )
    return StatusOutcome(
        update.order_id, written.applied, None if stored is None else str(stored), written.reason
    )
