"""The collaborators every handler uses, created once per worker process."""

from __future__ import annotations

from dataclasses import dataclass, field

from fulfillment.medusa import MedusaClient
from worker_job.order_reads import OrderReader
from worker_job.policy import BusinessPolicy
from worker_job.status_reporter import StatusReporter


@dataclass(frozen=True)
class Services:
    # The worker's client of the plugin's routes (the cancel), and its reads of orders through it.
    medusa: MedusaClient
    orders: OrderReader
    status: StatusReporter
    policy: BusinessPolicy = field(default_factory=BusinessPolicy)
