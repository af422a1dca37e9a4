"""Registers one pyzeebe task per job type and turns handler outcomes into job commands.

The handlers are plain sync functions: pyzeebe runs them in the event loop's thread pool, so the one sync
Medusa client serves them all. Every job runs with `order_id` and `process_instance_key` bound to its log
lines. A BusinessError becomes a BPMN error (with the cause as `failure_detail`, plus the variables of a
BusinessOutcome); any other exception is a technical fault: the job is failed with a capped exponential
backoff and its retries unchanged for as long as the outage window lasts (the first failure's time travels
as a task-local variable), so an outage of Medusa or the status function shorter than the window
never raises an incident; after the window the job fails with no retries left, an incident for a person.

No `from __future__ import annotations` here: pyzeebe recognises the Job parameter by comparing the
annotation object with its Job class, which a string annotation would not match.
"""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pyzeebe import Job, JobController, ZeebeWorker
from pyzeebe.errors import BusinessError
from pyzeebe.grpc_internals.zeebe_adapter import ZeebeAdapter

from fulfillment.logs import bind
from fulfillment.rate_limit import call_deadline
from fulfillment.workflow import JobType
from worker_job.fail_order import DETAIL_VARIABLE, fail_order
from worker_job.job_context import JobContext
from worker_job.outcomes import BusinessOutcome
from worker_job.record_canceled import record_canceled
from worker_job.reserve_inventory import reserve_inventory
from worker_job.send_notification import send_notification
from worker_job.services import Services
from worker_job.verify_payment import verify_payment

logger = logging.getLogger(__name__)

Handler = Callable[[JobContext, Services], dict[str, Any]]

HANDLERS: Final[Mapping[JobType, Handler]] = {
    JobType.VERIFY_PAYMENT: verify_payment,
    JobType.RESERVE_INVENTORY: reserve_inventory,
    JobType.SEND_NOTIFICATION: send_notification,
    JobType.FAIL_ORDER: fail_order,
    JobType.RECORD_CANCELED: record_canceled,
}
# Task-local variables FailJob sets: when the current run of technical faults began, and how many so far.
FAULT_SINCE_VARIABLE: Final = "technical_fault_since_ms"
FAULT_COUNT_VARIABLE: Final = "technical_faults"
# Only what the handlers read: the order's data always comes fresh from Medusa.
FETCHED_VARIABLES: Final = (
    "order_id",
    "failure_status",
    "failure_reason",
    DETAIL_VARIABLE,
    "payment_deadline",
    FAULT_SINCE_VARIABLE,
    FAULT_COUNT_VARIABLE,
)


@dataclass(frozen=True)
class TaskLimits:
    max_jobs_to_activate: int
    max_running_jobs: int
    # How long the engine waits for a job before handing it to another worker.
    job_timeout_ms: int
    retry_backoff_ms: int
    max_retry_backoff_ms: int
    outage_window_ms: int = 3_600_000


@dataclass(frozen=True)
class FaultRetry:
    """How a job that hit a technical fault is failed: with which retries, after which pause."""

    retries: int
    backoff_ms: int
    variables: dict[str, int]


def _int_variable(job: Job, name: str) -> int | None:
    value = job.variables.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def fault_retry(job: Job, limits: TaskLimits, now_ms: int) -> FaultRetry:
    """Retries unchanged while the outage window lasts (the pause doubling from the base up to the cap);
    once the window is over, no retries left: the engine raises an incident."""
    since = _int_variable(job, FAULT_SINCE_VARIABLE) or now_ms
    faults = (_int_variable(job, FAULT_COUNT_VARIABLE) or 0) + 1
    backoff = int(min(limits.max_retry_backoff_ms, limits.retry_backoff_ms * 2 ** min(faults - 1, 30)))
    within_window = now_ms - since < limits.outage_window_ms
    retries = max(job.retries, 1) if within_window else 0
    return FaultRetry(retries, backoff, {FAULT_SINCE_VARIABLE: since, FAULT_COUNT_VARIABLE: faults})


def _thrown_variables(error: BusinessError) -> dict[str, Any]:
    extra = error.variables if isinstance(error, BusinessOutcome) else {}
    return {DETAIL_VARIABLE: str(error), **extra}


def exception_handler(
    limits: TaskLimits, adapter: ZeebeAdapter
) -> Callable[[Exception, Job, JobController], Any]:
    async def handle(error: Exception, job: Job, controller: JobController) -> None:
        with bind(order_id=job.variables.get("order_id"), process_instance_key=job.process_instance_key):
            if isinstance(error, BusinessError):
                logger.info("BPMN error %s thrown by %s", error.error_code, job.type)
                await controller.set_error_status(
                    str(error), error_code=error.error_code, variables=_thrown_variables(error)
                )
                return
            retry = fault_retry(job, limits, int(time.time() * 1000))
            remaining = retry.retries
            backoff = retry.backoff_ms
            log = logger.error if remaining <= 0 else logger.warning
            log(
                "job %s failed (%s retries left%s): %s: %s",
                job.type,
                max(remaining, 0),
                "; the outage window is over: the engine raises an incident"
                if remaining <= 0
                else f", next attempt in {backoff} ms",
                type(error).__name__,
                error,
                # Structured fields for the log-based metrics (terraform/monitoring.tf).
                extra={
                    "event": "job_failed",
                    "job_type": job.type,
                    "retries_left": max(remaining, 0),
                    "error_type": type(error).__name__,
                },
            )
            # Through the adapter: pyzeebe's controller always takes one retry off.
            await adapter.fail_job(
                job_key=job.key,
                retries=remaining,
                message=f"{type(error).__name__}: {error}",
                retry_back_off_ms=backoff,
                variables=retry.variables,
            )

    return handle


def job_deadline(
    job: Job,
    job_timeout_ms: int | None,
    clocks: tuple[Callable[[], float], Callable[[], float]] = (time.monotonic, time.time),
) -> float:
    """The job's deadline on this machine's monotonic clock: the engine's deadline (Unix ms on the
    engine's clock), never later than a job timeout from now, so a clock apart from the engine's cannot
    stretch it. `clocks`: (monotonic, wall)."""
    monotonic_now, wall_now = clocks[0](), clocks[1]()
    ceiling = monotonic_now + job_timeout_ms / 1000 if job_timeout_ms is not None else float("inf")
    if job.deadline <= 0:
        return ceiling
    return min(ceiling, monotonic_now + job.deadline / 1000 - wall_now)


def job_function(
    job_type: JobType, handler: Handler, services: Services, job_timeout_ms: int | None = None
) -> Callable[..., dict[str, Any]]:
    def run(job: Job, **_fetched: Any) -> dict[str, Any]:
        with (
            bind(order_id=job.variables.get("order_id"), process_instance_key=job.process_instance_key),
            # A wait for a Medusa call slot ends with the job: the engine then hands it out again anyway.
            call_deadline(job_deadline(job, job_timeout_ms)),
        ):
            logger.info("job %s started (retries left %s)", job_type.value, job.retries)
            result = handler(JobContext.from_job(job), services)
            logger.info("job %s done", job_type.value)
            return result

    run.__name__ = f"run_{job_type.name.lower()}"
    return run


def register_tasks(worker: ZeebeWorker, services: Services, limits: TaskLimits) -> None:
    handle_exception = exception_handler(limits, worker.zeebe_adapter)
    for job_type, handler in HANDLERS.items():
        worker.task(
            job_type.value,
            exception_handler=handle_exception,
            variables_to_fetch=list(FETCHED_VARIABLES),
            timeout_ms=limits.job_timeout_ms,
            max_jobs_to_activate=limits.max_jobs_to_activate,
            max_running_jobs=limits.max_running_jobs,
        )(job_function(job_type, handler, services, limits.job_timeout_ms))
