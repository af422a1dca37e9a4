"""The worker's job poller: pyzeebe's, with a shared job budget and a poll loop that never gives up.

pyzeebe 4.7's JobPoller (pyzeebe/worker/job_poller.py), when the gateway cannot be reached: it catches
UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED, logs a WARNING on every attempt and sleeps
a fixed 5 s; any other status (UNAUTHENTICATED while a token is refused, PERMISSION_DENIED, UNKNOWN) escapes
`poll()`, which ends the worker's task group and so the whole worker. And with a finite
`max_connection_retries` its adapter closes the channel for good after that many errors over the life of
the process (the counter is never reset), after which every poller stops. Here (with
`max_connection_retries=-1`, so the channel is never closed) a failed call of any kind is reported to the
GatewayLink, which logs once per change of state, and the poller waits a capped, jittered, growing pause
(gateway_link.pause_after) and polls again, until the worker stops it. Only a request the gateway calls
invalid (INVALID_ARGUMENT: a bug in this worker) still ends the worker.

Each poll reserves its slots in the JobBudget first (capacity.py), as many as the task's
`max_jobs_to_activate` after a poll that brought jobs and one after an empty one, so an idle job type holds
one slot while it waits, not a batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pyzeebe import Job
from pyzeebe.errors import ActivateJobsRequestInvalidError, ZeebeBackPressureError
from pyzeebe.grpc_internals.zeebe_job_adapter import ZeebeJobAdapter
from pyzeebe.task.task import Task
from pyzeebe.worker.job_poller import JobPoller
from pyzeebe.worker.task_state import TaskState

from worker_job.capacity import JobBudget
from worker_job.gateway_link import GatewayLink, pause_after

logger = logging.getLogger(__name__)


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
