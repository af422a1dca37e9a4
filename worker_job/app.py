"""Wiring and lifecycle of the worker process.

Start: settings (one line and exit 2 when one is wrong), JSON logs, a check that the version of the process
model this worker handles is deployed (worker_job/model_check.py; the deploy step deploys it, never the
worker), the engine channel, then one pyzeebe worker with a task per job type. Run: the pollers keep
polling through any engine outage, within one budget of running jobs shared by all job types (both are
pyzeebe adapted: worker_job/pyzeebe_adaptations.py), and a heartbeat line says every
WORKER_HEARTBEAT_SECONDS whether the worker is polling (worker_job/heartbeat.py). Stop: SIGTERM/SIGINT, or
the end of the activation window that WORKER_MAX_RUNTIME_SECONDS leaves (worker_job/config.py), stop the
activation of new jobs, let the jobs in hand finish and report, and exit 0. Only a worker whose pollers
ended on their own exits non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import grpc

from fulfillment.engine import create_channel
from fulfillment.logs import setup_logging
from fulfillment.medusa import MedusaClient
from fulfillment.rate_limit import CallLimit
from fulfillment.settings import load_settings
from fulfillment.workflow import PROCESS_ID
from worker_job.config import WorkerJobSettings
from worker_job.heartbeat import Heartbeat
from worker_job.model_check import check_model_deployed
from worker_job.order_reads import OrderReader
from worker_job.policy import BusinessPolicy
from worker_job.pyzeebe_adaptations import FulfillmentWorker
from worker_job.services import Services
from worker_job.status_reporter import IdTokenSource, StatusReporter
from worker_job.tasks import HANDLERS, TaskLimits, register_tasks

logger = logging.getLogger("worker_job")

# The maximum runtime counts from the start of the process (the platform's task timeout does too).
PROCESS_STARTED: Final = time.monotonic()

EXIT_OK: Final = 0
EXIT_FATAL: Final = 1


def build_services(settings: WorkerJobSettings) -> Services:
    id_tokens = IdTokenSource(settings.status_update_url) if settings.status_update_use_id_token else None
    # One limit for every call this worker makes to Medusa, directly or through the status function: its
    # rate and the calls in flight at once.
    medusa_calls = CallLimit(settings.medusa_calls_per_second, settings.medusa_max_calls_in_flight)
    medusa = MedusaClient.from_settings(settings, settings.medusa_signing_secret, call_limit=medusa_calls)
    return Services(
        medusa=medusa,
        orders=OrderReader(medusa, settle_seconds=settings.worker_settle_seconds),
        status=StatusReporter(
            settings.status_update_url,
            settings.status_update_signing_secret,
            id_tokens=id_tokens,
            call_limit=medusa_calls,
        ),
        policy=BusinessPolicy(
            payment_recheck_interval=settings.payment_recheck_interval,
            payment_max_wait=settings.payment_max_wait,
            stock_policy=settings.stock_policy,
        ),
    )


def task_limits(settings: WorkerJobSettings) -> TaskLimits:
    # All job types share one budget of worker_max_jobs; one poll of a type asks for at most its fair
    # share, so the long polls of the other types still find slots (a busy type polls again at once).
    return TaskLimits(
        max_jobs_to_activate=max(1, settings.worker_max_jobs // len(HANDLERS)),
        max_running_jobs=settings.worker_max_jobs,
        job_timeout_ms=int(settings.worker_job_timeout_seconds * 1000),
        retry_backoff_ms=int(settings.worker_retry_backoff_seconds * 1000),
        max_retry_backoff_ms=int(settings.worker_max_retry_backoff_seconds * 1000),
        outage_window_ms=int(settings.worker_outage_window_seconds * 1000),
    )


class Lifecycle:
    """Runs the worker until a stop signal, the end of its activation window, or a fatal condition."""

    def __init__(
        self, worker: FulfillmentWorker, settings: WorkerJobSettings, started_at: float = PROCESS_STARTED
    ) -> None:
        self.worker = worker
        self.settings = settings
        self.started_at = started_at
        self.stop_requested = asyncio.Event()
        self.stop_reason = ""

    def request_stop(self, reason: str) -> None:
        if not self.stop_requested.is_set():
            self.stop_reason = reason
            self.stop_requested.set()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop, signal.Signals(signum).name)

    async def _close_activation_window(self, window_seconds: float) -> None:
        await asyncio.sleep(max(0.0, self.started_at + window_seconds - time.monotonic()))
        self.request_stop(
            f"activation window over: the jobs in hand time out before WORKER_MAX_RUNTIME_SECONDS "
            f"({self.settings.worker_max_runtime_seconds:g} s) ends"
        )

    def heartbeat(self) -> Heartbeat:
        return Heartbeat(
            link=self.worker.link,
            budget=self.worker.budget,
            job_types=self.worker.job_types,
            interval_seconds=self.settings.worker_heartbeat_seconds,
            probe=self.worker.healthcheck,
            stopping=self.stop_requested.is_set,
        )

    async def run(self) -> int:
        work = asyncio.create_task(self.worker.work(), name="pyzeebe-worker")
        stop: asyncio.Task[object] = asyncio.create_task(self.stop_requested.wait(), name="stop-request")
        helpers: list[asyncio.Task[Any]] = [
            stop,
            asyncio.create_task(self.heartbeat().run(), name="heartbeat"),
        ]
        window = self.settings.activation_window_seconds
        if window is not None:
            helpers.append(asyncio.create_task(self._close_activation_window(window), name="window"))
        logger.info(
            "worker started",
            extra={"job_types": self.worker.job_types, "max_jobs": self.worker.budget.capacity},
        )
        try:
            await asyncio.wait([work, stop], return_when=asyncio.FIRST_COMPLETED)
            if stop.done():
                return await self._drain(work)
            logger.error("the pyzeebe worker stopped on its own: %r", _outcome(work))
            return EXIT_FATAL
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _drain(self, work: asyncio.Task[None]) -> int:
        logger.info(
            "stopping (%s): no new jobs, waiting for the jobs in hand",
            self.stop_reason,
            extra={"reason": self.stop_reason, "active_jobs": self.worker.budget.jobs_in_hand},
        )
        started = time.monotonic()
        await self.worker.stop()
        await work
        logger.info("stopped cleanly after %.2f s", time.monotonic() - started)
        return EXIT_OK


def _outcome(task: asyncio.Task[None]) -> BaseException | None:
    return None if task.cancelled() else task.exception()


def create_worker(
    channel: grpc.aio.Channel, settings: WorkerJobSettings, services: Services
) -> FulfillmentWorker:
    worker = FulfillmentWorker(
        channel,
        name=settings.worker_name or f"{socket.gethostname()}-worker",
        request_timeout=int(settings.worker_poll_timeout_seconds * 1000),
        max_jobs=settings.worker_max_jobs,
        # Past the job timeout the engine hands the job to a worker again: no point insisting longer.
        back_pressure_patience_seconds=settings.worker_job_timeout_seconds,
    )
    register_tasks(worker, services, task_limits(settings))
    return worker


async def serve(settings: WorkerJobSettings) -> int:
    # Sync handlers run in the loop's default executor: size it to the job limit (the default is
    # min(32, CPUs + 4) threads, which would cap concurrency far below worker_max_jobs on small machines).
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(settings.worker_max_jobs, thread_name_prefix="job")
    )
    services = build_services(settings)
    channel = create_channel(settings)
    try:
        lifecycle = Lifecycle(create_worker(channel, settings, services), settings)
        lifecycle.install_signal_handlers()
        return await lifecycle.run()
    finally:
        with contextlib.suppress(Exception):
            await channel.close()
        services.medusa.close()
        services.status.close()


def main() -> int:
    setup_logging("worker_job")
    # httpx logs every request at INFO; the handlers log what matters about each call.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings(WorkerJobSettings)
    logger.info(
        "worker starting",
        extra={"process_id": PROCESS_ID, "max_runtime_s": settings.worker_max_runtime_seconds},
    )
    not_deployed = check_model_deployed(settings)
    if not_deployed is not None:
        return not_deployed
    return asyncio.run(serve(settings))
