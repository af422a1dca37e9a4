"""The collaborators every handler uses, created once per worker process."""

from __future__ import annotations

from dataclasses import dataclass, field

from worker_job.order_reads import OrderReader
from worker_job.policy import BusinessPolicy
from worker_job.status_reporter import StatusReporter


@dataclass(frozen=True)
class Services:
    medusa: OrderReader
    status: StatusReporter
    policy: BusinessPolicy = field(default_factory=BusinessPolicy)
