"""The worker's settings: the shared WorkerSettings plus tuning knobs that only the worker process has.

How the durations of a run relate (checked when the settings load):

    activation window = WORKER_MAX_RUNTIME_SECONDS - WORKER_JOB_TIMEOUT_SECONDS - WORKER_POLL_TIMEOUT_SECONDS

The worker opens its last long poll at the end of the activation window; that poll returns within the poll
timeout, so every job it was handed times out (at the latest) when the maximum runtime ends, and nothing
is activated in the last WORKER_JOB_TIMEOUT_SECONDS of the runtime (its last window). After the activation
window the worker finishes the jobs in hand and exits 0, by the end of the maximum runtime.
The platform's task timeout (Cloud Run) must be longer than the maximum runtime by the time the process
needs to exit (a few seconds): a task is then never killed with jobs activated. A run polls for its
activation window only, so the next run must start before that window ends (overlapping runs).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final, Self

from pydantic import Field, model_validator

from fulfillment.settings import WorkerSettings
from worker_job.order_reads import DEFAULT_SETTLE_SECONDS
from worker_job.policy import StockPolicy

# The job that waits the settle interval makes its three Medusa calls within the same job timeout, and
# their turns may take three quarters of it (_durations_fit): the wait gets a tenth, the calls the rest.
SETTLE_SHARE_OF_JOB_TIMEOUT: Final = 0.1


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
    # How long the start waits for the gateway while deploying the process model.
    worker_unhealthy_exit_seconds: float = Field(default=300.0, gt=0, le=86400)
    # Long-poll duration of one ActivateJobs request. A stop waits for the open long polls to return (so
    # no job handed out is stranded), so keep it well below the platform's grace period after SIGTERM.
    worker_poll_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # How often the worker logs `worker_heartbeat` (polling true only when a poll round trip succeeded
    # within the interval, so it must be longer than one long poll).
    worker_heartbeat_seconds: float = Field(default=60.0, gt=0, le=3600)
    # How long a step whose check failed (payment not authorized, stock missing) waits before it reads the
    # order again and decides (worker_job/confirm.py). Longer: a failing order's end comes later; shorter:
    # a Medusa write still under way (a payment authorized, a staff cancel) may be missed by the second read.
    worker_settle_seconds: float = Field(default=DEFAULT_SETTLE_SECONDS, ge=0, le=60)
    worker_name: str | None = None

    @property
    def activation_window_seconds(self) -> float | None:
        """How long after the start the worker may open a long poll; None when the runtime is unlimited."""
        if not self.worker_max_runtime_seconds:
            return None
        jobs_of_last_poll_time_out_within = self.worker_job_timeout_seconds + self.worker_poll_timeout_seconds
        return self.worker_max_runtime_seconds - jobs_of_last_poll_time_out_within

    @model_validator(mode="after")
    def _durations_fit(self) -> Self:
        window = self.activation_window_seconds
        if window is not None and window <= 0:
            raise ValueError(
                "WORKER_MAX_RUNTIME_SECONDS must be longer than WORKER_JOB_TIMEOUT_SECONDS plus "
                "WORKER_POLL_TIMEOUT_SECONDS: the jobs of its last poll must time out before it ends"
            )
        if self.worker_heartbeat_seconds <= self.worker_poll_timeout_seconds:
            raise ValueError("WORKER_HEARTBEAT_SECONDS must be longer than WORKER_POLL_TIMEOUT_SECONDS")
        # Each running job waits at most this long for one Medusa call's token (one turn per other running
        # job); a job makes at most three calls (view, cancel, status), so a quarter of its timeout each
        # leaves time for the calls themselves. The wait for a place among MEDUSA_MAX_CALLS_IN_FLIGHT
        # depends on how fast Medusa answers, not on settings: the job's deadline bounds it as it runs.
        longest_turn = self.worker_max_jobs / self.medusa_calls_per_second
        if longest_turn > self.worker_job_timeout_seconds / 4:
            raise ValueError(
                "WORKER_MAX_JOBS / MEDUSA_CALLS_PER_SECOND (the longest wait for one Medusa call) must stay "
                "under a quarter of WORKER_JOB_TIMEOUT_SECONDS"
            )
        return self

    @model_validator(mode="after")
    def _settle_fits_in_a_job(self) -> Self:
        if self.worker_settle_seconds > self.worker_job_timeout_seconds * SETTLE_SHARE_OF_JOB_TIMEOUT:
            raise ValueError(
                "WORKER_SETTLE_SECONDS must be at most a tenth of WORKER_JOB_TIMEOUT_SECONDS: the job that "
                "waits it makes its Medusa calls within that timeout too"
            )
        return self
