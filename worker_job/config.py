"""The worker's settings: the shared WorkerSettings plus tuning knobs that only the worker process has."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from fulfillment.settings import WorkerSettings
from worker_job.policy import StockPolicy


class WorkerJobSettings(WorkerSettings):
    # Base of the exponential backoff between attempts of a failed job (doubling, capped).
    worker_retry_backoff_seconds: float = Field(default=5.0, ge=0, le=600)
    worker_max_retry_backoff_seconds: float = Field(default=300.0, ge=0, le=3600)
    # How long a technical fault (Medusa or the status function unreachable, or the plugin refusing our
    # secret) is retried with that backoff before the job fails for good and becomes an incident: outages
    # shorter than this never reach a person, and never a customer.
    worker_outage_window_seconds: float = Field(default=3600.0, gt=0, le=7 * 86400)
    # Business policy overrides (the model's task headers apply when unset): ISO 8601 durations or seconds.
    payment_recheck_interval: timedelta | None = Field(default=None, gt=timedelta(0))
    payment_max_wait: timedelta | None = Field(default=None, gt=timedelta(0))
    stock_policy: StockPolicy | None = None
    # How long the engine waits for a job's result before handing it to another worker.
    worker_job_timeout_seconds: float = Field(default=120.0, gt=0, le=3600)
    # Liveness: the gateway is asked for its health this often; when it stays unreachable longer than the
    # grace period the worker exits non-zero so the platform starts a fresh one.
    worker_health_interval_seconds: float = Field(default=30.0, gt=0, le=3600)
    worker_unhealthy_exit_seconds: float = Field(default=300.0, gt=0, le=86400)
    # Long-poll duration of one ActivateJobs request. A stop waits for the open long polls to return (so
    # no job handed out is stranded), so keep it well below the platform's grace period after SIGTERM.
    worker_poll_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    worker_name: str | None = None
