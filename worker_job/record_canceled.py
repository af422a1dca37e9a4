"""record-canceled: the order was canceled in Medusa while its process ran; record it, tell nobody.

Medusa's cancel workflow has already released the stock and the payment, and staff who cancel an order
talk to the customer themselves: no confirmation and no failure mail.
"""

from __future__ import annotations

from typing import Any

from fulfillment.workflow import WorkflowStatus
from worker_job.job_context import JobContext
from worker_job.services import Services


def record_canceled(ctx: JobContext, services: Services) -> dict[str, Any]:
    services.status.report(
        ctx,
        WorkflowStatus.CANCELED,
        "The order was canceled in Medusa; its process ended without a confirmation.",
    )
    return {"canceled_recorded": True}
