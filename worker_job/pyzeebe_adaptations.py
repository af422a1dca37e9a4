"""Where this worker changes pyzeebe's own behaviour, all in one module: pyzeebe 4.7.0 (the version pinned
in pyproject.toml, requirements-dev.lock and worker_job/requirements.txt). Each class below subclasses a
pyzeebe class and relies on private parts of it (attributes, the signatures of constructors and methods it
overrides); tests/unit/worker/test_pyzeebe_internals.py asserts each of them and the pinned version, so
it is the test that fails when pyzeebe changes: read the new pyzeebe sources against this module, then
update the pin there.

**Polling** (BudgetedPoller). pyzeebe 4.7's JobPoller (pyzeebe/worker/job_poller.py), when the gateway
cannot be reached: it catches UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED, logs a
WARNING on every attempt and sleeps a fixed 5 s; any other status (UNAUTHENTICATED while a token is
refused, PERMISSION_DENIED, UNKNOWN) escapes `poll()`, which ends the worker's task group and so the whole
worker. And with a finite `max_connection_retries` its adapter closes the channel for good after that many
errors over the life of the process (the counter is never reset), after which every poller stops. Here
(with `max_connection_retries=-1`, so the channel is never closed) a failed call of any kind is reported to
the GatewayLink, which logs once per change of state, and the poller waits a capped, jittered, growing
pause (gateway_link.pause_after) and polls again, until the worker stops it. Only a request the gateway
calls invalid (INVALID_ARGUMENT: a bug in this worker) still ends the worker.

**One job budget** (BudgetedTaskState). Each poll reserves its slots in the JobBudget first (capacity.py),
as many as the task's `max_jobs_to_activate` after a poll that brought jobs and one after an empty one, so
an idle job type holds one slot while it waits, not a batch.

**Back-pressure** (BackPressureAdapter). A Zeebe partition that is over its command limit answers
RESOURCE_EXHAUSTED and the command has no effect. pyzeebe logs that and drops the outcome, so the job stays
locked to this worker until its timeout and is then run a second time. Here a command refused that way is
sent again after a growing, jittered pause (the poller already waits before polling again after
back-pressure). Completing and failing jobs are never limited by Zeebe (its RequestLimiter lets them
through); throwing a BPMN error is.

**Gone jobs** (BackPressureAdapter too). A job whose step was interrupted while it ran (the order's cancel
boundary, a terminated instance) no longer exists, and Zeebe answers its completion NOT_FOUND. pyzeebe
raises that out of the job's task, and its executor logs it as an error with a traceback; here it is one
INFO line, since the engine has already moved on and there is nothing to do.

**Stopping** (FulfillmentWorker). pyzeebe's stop() stops the pollers one after the other, waiting for each
one's jobs while the others keep activating, and then cancels every long poll still open; jobs the engine
handed to a cancelled poll stay locked to this worker until their timeout. Here all pollers stop polling at
once, the open long polls are allowed to return (at most the long-poll timeout), and the jobs they bring
are run and completed before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import grpc
from pyzeebe import Job, ZeebeWorker
from pyzeebe.errors import ActivateJobsRequestInvalidError, JobNotFoundError, ZeebeBackPressureError
from pyzeebe.grpc_internals.types import CompleteJobResponse, FailJobResponse, ThrowErrorResponse
from pyzeebe.grpc_internals.zeebe_adapter import ZeebeAdapter
from pyzeebe.grpc_internals.zeebe_job_adapter import ZeebeJobAdapter
from pyzeebe.task.task import Task
from pyzeebe.worker.job_executor import JobExecutor
from pyzeebe.worker.job_poller import JobPoller
from pyzeebe.worker.task_state import TaskState
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_delay,
    wait_random_exponential,
)

from worker_job.capacity import JobBudget
from worker_job.gateway_link import GatewayLink, pause_after

logger = logging.getLogger(__name__)

ResponseT = TypeVar("ResponseT")

# The pyzeebe release this module was read against (the one pinned).
PYZEEBE_VERSION: Final = "4.7.0"


FIRST_PAUSE_SECONDS: Final = 0.1
LONGEST_PAUSE_SECONDS: Final = 5.0


def _log_pause(state: RetryCallState) -> None:
    pause = state.next_action.sleep if state.next_action else 0.0
    logger.info(
        "job command refused by back-pressure (attempt %d): sent again in %.2f s", state.attempt_number, pause
    )


class BackPressureAdapter(ZeebeAdapter):
    """pyzeebe's gateway adapter whose job commands outlast back-pressure (for at most `patience_seconds`:
    after the job's timeout the engine hands the job out again anyway)."""

    def __init__(
        self, channel: grpc.aio.Channel, max_connection_retries: int, patience_seconds: float
    ) -> None:
        super().__init__(channel, max_connection_retries)
        self.patience_seconds = patience_seconds

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception_type(ZeebeBackPressureError),
            wait=wait_random_exponential(multiplier=FIRST_PAUSE_SECONDS, max=LONGEST_PAUSE_SECONDS),
            stop=stop_after_delay(self.patience_seconds),
            before_sleep=_log_pause,
            reraise=True,
        )

    async def complete_job(self, job_key: int, *args: Any, **kwargs: Any) -> CompleteJobResponse:
        send = functools.partial(super().complete_job, job_key, *args, **kwargs)
        return await self._outlasting(send, job_key, "completion", CompleteJobResponse())

    async def fail_job(self, job_key: int, *args: Any, **kwargs: Any) -> FailJobResponse:
        send = functools.partial(super().fail_job, job_key, *args, **kwargs)
        return await self._outlasting(send, job_key, "failure", FailJobResponse())

    async def throw_error(self, job_key: int, *args: Any, **kwargs: Any) -> ThrowErrorResponse:
        send = functools.partial(super().throw_error, job_key, *args, **kwargs)
        return await self._outlasting(send, job_key, "BPMN error", ThrowErrorResponse())

    async def _outlasting(
        self, send: Callable[[], Awaitable[ResponseT]], job_key: int, outcome: str, when_gone: ResponseT
    ) -> ResponseT:
        """Sends a job command until back-pressure lets it through; a job that no longer exists is logged
        and `when_gone` answered."""
        try:
            async for attempt in self._retrying():
                with attempt:
                    return await send()
        except JobNotFoundError:
            logger.info(
                "job %d no longer exists (its step was interrupted while it ran, e.g. by the order's "
                "cancel): its %s was dropped",
                job_key,
                outcome,
                extra={"event": "job_gone", "job_key": job_key},
            )
            return when_gone
        raise AssertionError("unreachable: the retrying loop returns or raises")


class BudgetedTaskState(TaskState):
    """pyzeebe's record of a job type's running jobs; a job leaving it gives its budget slot back."""

    def __init__(self, budget: JobBudget) -> None:
        super().__init__()
        self.budget = budget

    def add(self, job: Job) -> None:
        super().add(job)
        self.budget.job_activated()

    def remove(self, job: Job) -> None:
        before = self.count_active()
        super().remove(job)
        if self.count_active() < before:
            self.budget.job_ended()


class BudgetedPoller(JobPoller):
    """Polls one job type until stopped; `ended` is set once its last poll has returned."""

    def __init__(
        self,
        zeebe_adapter: ZeebeJobAdapter,
        task: Task,
        queue: asyncio.Queue[Job],
        *,
        worker_name: str,
        request_timeout: int,
        task_state: BudgetedTaskState,
        link: GatewayLink,
    ) -> None:
        super().__init__(
            zeebe_adapter,
            task,
            queue,
            worker_name,
            request_timeout,
            task_state,
            poll_retry_delay=0,
            tenant_ids=None,
        )
        self.budget = task_state.budget
        self.link = link
        self.ended = asyncio.Event()
        self._failures = 0
        self._last_poll_found_jobs = True

    async def poll(self) -> None:
        try:
            while not self.stop_event.is_set():
                await self.activate_max_jobs()
        finally:
            self.ended.set()

    async def activate_max_jobs(self) -> None:
        wanted = self.task.config.max_jobs_to_activate if self._last_poll_found_jobs else 1
        granted = await self.budget.reserve(wanted)
        if granted == 0:  # the budget closed: the worker stops
            return
        activated, came_back = 0, False
        try:
            activated, came_back = await self._activate(granted)
        finally:
            self.budget.release(granted - activated)
        self._last_poll_found_jobs = activated > 0
        if came_back:
            self._failures = 0
        else:
            self._failures += 1
            await self._pause(pause_after(self._failures))

    async def _activate(self, count: int) -> tuple[int, bool]:
        """One ActivateJobs call for up to `count` jobs: how many were handed to the executor, and whether
        the call came back normally."""
        activated = 0
        started_at = self.link.now()
        try:
            jobs = self.zeebe_adapter.activate_jobs(
                task_type=self.task.type,
                worker=self.worker_name,
                timeout=self.task.config.timeout_ms,
                max_jobs_to_activate=count,
                variables_to_fetch=self.task.config.variables_to_fetch or [],
                request_timeout=self.request_timeout,
                tenant_ids=self.tenant_ids,
            )
            async for job in jobs:
                self.task_state.add(job)
                activated += 1
                await self.queue.put(job)
        except ActivateJobsRequestInvalidError:
            raise
        except ZeebeBackPressureError as error:
            # The gateway answered: it is reachable, only busy. Back off as after a failure.
            self.link.busy(error, started_at)
            return activated, False
        except Exception as error:  # any failure of the call: report it, pause, poll again
            self.link.failed(error, started_at)
            return activated, False
        self.link.answered(started_at)
        return activated, True

    async def _pause(self, seconds: float) -> None:
        """Sleeps, but returns at once when the worker stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_event.wait(), seconds)


class FulfillmentWorker(ZeebeWorker):
    """pyzeebe's worker with pollers that never give up, one job budget for all job types, job commands
    that outlast back-pressure, and a stop that neither keeps activating nor drops activated jobs."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        max_jobs: int,
        back_pressure_patience_seconds: float,
        **options: Any,
    ) -> None:
        # -1: pyzeebe never resets its error counter, so any finite limit closes the channel for good after
        # that many errors over the life of the process; the pollers decide how to go on instead.
        super().__init__(channel, max_connection_retries=-1, **options)
        self.zeebe_adapter = BackPressureAdapter(channel, -1, back_pressure_patience_seconds)
        self.budget = JobBudget(max_jobs)
        self.link = GatewayLink()
        self._pollers: list[BudgetedPoller] = []

    @property
    def job_types(self) -> list[str]:
        return [task.type for task in self.tasks]

    def _init_tasks(self) -> None:
        self._job_executors, self._job_pollers, self._job_streamers = [], [], []
        self._pollers = []
        for task in self.tasks:
            queue = asyncio.Queue[Job]()
            state = BudgetedTaskState(self.budget)
            poller = BudgetedPoller(
                self.zeebe_adapter,
                task,
                queue,
                worker_name=self.name,
                request_timeout=self.request_timeout,
                task_state=state,
                link=self.link,
            )
            self._pollers.append(poller)
            self._job_pollers.append(poller)
            self._job_executors.append(JobExecutor(task, queue, state, self.zeebe_adapter))

    async def stop(self) -> None:
        for poller in self._pollers:
            poller.stop_event.set()
        self.budget.close()
        await asyncio.gather(*(poller.ended.wait() for poller in self._pollers))
        logger.info(
            "activation stopped: every long poll has returned, no job is activated any more",
            extra={"active_jobs": self.budget.jobs_in_hand},
        )
        await super().stop()
