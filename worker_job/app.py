"""Wiring and lifecycle of the worker process.

Start: settings (one line and exit 2 when one is wrong), JSON logs, a check that the version of the process
model this worker handles is deployed (worker_job/model_check.py; the deploy step deploys it, never the
worker), the engine channel, then one pyzeebe worker with a task per job type. Stop: SIGTERM/SIGINT or
the configured maximum runtime stop the activation of new jobs, let the jobs in flight finish and report,
and exit 0. A gateway that stays unreachable, or a worker whose pollers died, ends the process with a
non-zero code so the platform restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import grpc
from pyzeebe import ZeebeWorker

from fulfillment.engine import create_channel
from fulfillment.logs import setup_logging
from fulfillment.settings import load_settings
from fulfillment.workflow import PROCESS_ID
from worker_job.back_pressure import BackPressureAdapter
from worker_job.config import WorkerJobSettings
from worker_job.model_check import check_model_deployed
from worker_job.order_reads import OrderReader
from worker_job.policy import BusinessPolicy
from worker_job.services import Services
from worker_job.status_reporter import IdTokenSource, StatusReporter
from worker_job.tasks import TaskLimits, register_tasks

logger = logging.getLogger("worker_job")

EXIT_OK: Final = 0
EXIT_FATAL: Final = 1
EXIT_ENGINE_UNREACHABLE: Final = 3
HEALTH_CHECK_TIMEOUT_SECONDS: Final = 10.0
# The pyzeebe poller sleeps this long when a task type is at its running-jobs limit (its default, 5 s,
# stalls a busy worker).
POLL_RETRY_DELAY_SECONDS: Final = 1


def build_services(settings: WorkerJobSettings) -> Services:
    id_tokens = IdTokenSource(settings.status_update_url) if settings.status_update_use_id_token else None
    return Services(
        medusa=OrderReader.from_settings(settings, settings.medusa_signing_secret),
        status=StatusReporter(
            settings.status_update_url, settings.status_update_signing_secret, id_tokens=id_tokens
        ),
        policy=BusinessPolicy(
            payment_recheck_interval=settings.payment_recheck_interval,
            payment_max_wait=settings.payment_max_wait,
            stock_policy=settings.stock_policy,
        ),
    )


def task_limits(settings: WorkerJobSettings) -> TaskLimits:
    # Activating half the running limit at a time leaves room to poll again while jobs run, so the poller
    # never finds itself "at capacity" right after a fetch (pyzeebe's 5 s stall with equal limits).
    return TaskLimits(
        max_jobs_to_activate=max(1, settings.worker_max_jobs // 2),
        max_running_jobs=settings.worker_max_jobs,
        job_timeout_ms=int(settings.worker_job_timeout_seconds * 1000),
        retry_backoff_ms=int(settings.worker_retry_backoff_seconds * 1000),
        max_retry_backoff_ms=int(settings.worker_max_retry_backoff_seconds * 1000),
        outage_window_ms=int(settings.worker_outage_window_seconds * 1000),
    )


class FulfillmentWorker(ZeebeWorker):
    """pyzeebe's worker with a stop that neither keeps activating nor drops activated jobs.

    pyzeebe's stop() stops the pollers one after the other, waiting for each one's jobs while the others
    keep activating, and then cancels every long poll still open; jobs the engine handed to a cancelled
    poll stay locked to this worker until their timeout. Here all pollers stop polling at once, the open
    long polls are allowed to return (at most the long-poll timeout), and the jobs they bring are run and
    completed before the process exits. Job commands refused by back-pressure are sent again
    (worker_job/back_pressure.py).
    """

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        max_connection_retries: int,
        back_pressure_patience_seconds: float,
        **options: Any,
    ) -> None:
        super().__init__(channel, max_connection_retries=max_connection_retries, **options)
        self.zeebe_adapter = BackPressureAdapter(
            channel, max_connection_retries, back_pressure_patience_seconds
        )

    def _init_tasks(self) -> None:
        super()._init_tasks()
        self._polls_ended: list[asyncio.Event] = []
        for poller in self._job_pollers:
            ended = asyncio.Event()
            poller.poll = _signal_when_done(poller.poll, ended)  # type: ignore[method-assign]
            self._polls_ended.append(ended)

    async def stop(self) -> None:
        for poller in self._job_pollers:
            poller.stop_event.set()
        await asyncio.gather(*(ended.wait() for ended in getattr(self, "_polls_ended", [])))
        await super().stop()


Poll = Callable[[], Coroutine[Any, Any, None]]


def _signal_when_done(poll: Poll, ended: asyncio.Event) -> Poll:
    async def poll_then_signal() -> None:
        try:
            await poll()
        finally:
            ended.set()

    return poll_then_signal


class Lifecycle:
    """Runs the worker until a stop signal, the maximum runtime, or a fatal condition."""

    def __init__(self, worker: ZeebeWorker, settings: WorkerJobSettings) -> None:
        self.worker = worker
        self.settings = settings
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

    async def _stop_after_max_runtime(self) -> None:
        await asyncio.sleep(self.settings.worker_max_runtime_seconds)
        self.request_stop("maximum runtime reached")

    async def _watch_gateway(self) -> None:
        """Returns (ending the run) when the gateway has been unreachable for longer than the grace."""
        healthy_at = time.monotonic()
        while True:
            await asyncio.sleep(self.settings.worker_health_interval_seconds)
            try:
                await asyncio.wait_for(self.worker.healthcheck(), HEALTH_CHECK_TIMEOUT_SECONDS)
            except Exception as exc:  # any failure to get an answer counts as unhealthy
                unhealthy_for = time.monotonic() - healthy_at
                logger.warning("gateway health check failed for %.0f s: %s", unhealthy_for, exc)
                if unhealthy_for > self.settings.worker_unhealthy_exit_seconds:
                    logger.error("gateway unreachable too long: exiting so the worker is restarted")
                    return
            else:
                healthy_at = time.monotonic()

    async def run(self) -> int:
        work = asyncio.create_task(self.worker.work(), name="pyzeebe-worker")
        stop: asyncio.Task[object] = asyncio.create_task(self.stop_requested.wait(), name="stop-request")
        watchdog: asyncio.Task[object] = asyncio.create_task(self._watch_gateway(), name="gateway-watchdog")
        helpers = [stop, watchdog]
        if self.settings.worker_max_runtime_seconds > 0:
            helpers.append(asyncio.create_task(self._stop_after_max_runtime(), name="max-runtime"))
        logger.info("worker started")
        try:
            await asyncio.wait([work, *helpers], return_when=asyncio.FIRST_COMPLETED)
            if stop.done():
                return await self._drain(work)
            if watchdog.done():
                await self._drain(work)
                return EXIT_ENGINE_UNREACHABLE
            logger.error("the pyzeebe worker stopped on its own: %r", _outcome(work))
            return EXIT_FATAL
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _drain(self, work: asyncio.Task[None]) -> int:
        logger.info(
            "stopping (%s): no new jobs, waiting for the jobs in flight",
            self.stop_reason or "gateway unreachable",
        )
        started = time.monotonic()
        await self.worker.stop()
        await work
        logger.info("stopped cleanly after %.2f s", time.monotonic() - started)
        return EXIT_OK


def _outcome(task: asyncio.Task[None]) -> BaseException | None:
    return None if task.cancelled() else task.exception()


def create_worker(channel: grpc.aio.Channel, settings: WorkerJobSettings, services: Services) -> ZeebeWorker:
    worker = FulfillmentWorker(
        channel,
        name=settings.worker_name or f"{socket.gethostname()}-worker",
        request_timeout=int(settings.worker_poll_timeout_seconds * 1000),
        # -1: pyzeebe never resets its error counter, so any finite limit ends polling for good after that
        # many errors over the life of the process; the watchdog decides when to give up instead.
        max_connection_retries=-1,
        poll_retry_delay=POLL_RETRY_DELAY_SECONDS,
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
