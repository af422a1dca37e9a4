"""Jobs: the activatable queue per type with its long-polling waiters, and the job lifecycle
(activation, deadlines, retry backoff)."""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterable

from localzeebe import errors
from localzeebe.core import EngineCore, Waiters
from localzeebe.state import (
    ElementInstance,
    Job,
    ProcessInstance,
    Variables,
    now_ms,
)
from localzeebe.store import Store
from localzeebe.variables import visible

log = logging.getLogger("localzeebe")


class JobQueue:
    def __init__(self) -> None:
        self._activatable: dict[str, dict[int, None]] = {}
        self.waiters: Waiters[str, None] = Waiters()

    def push(self, job_type: str, key: int) -> None:
        """Make a job activatable and wake the requests long-polling for its type."""
        self._activatable.setdefault(job_type, {})[key] = None
        self.waiters.wake(job_type, None)

    def remove(self, job_type: str, key: int) -> None:
        self._activatable.get(job_type, {}).pop(key, None)

    def take(self, job_type: str, max_jobs: int) -> list[int]:
        """Remove and return up to max_jobs keys, oldest first."""
        queue = self._activatable.get(job_type)
        if not queue:
            return []
        keys = list(itertools.islice(queue, max_jobs))
        for key in keys:
            del queue[key]
        return keys

    async def wait(self, job_type: str, timeout_s: float) -> None:
        """Wait until a job of this type becomes activatable, or the timeout passes."""
        with contextlib.suppress(TimeoutError):
            await self.waiters.wait(job_type, timeout_s)


class JobLifecycle(EngineCore):
    def __init__(self, store: Store | None = None) -> None:
        super().__init__(store)
        self.job_queue = JobQueue()

    def _make_activatable(self, job: Job) -> None:
        job.state = "ACTIVATABLE"
        job.worker = ""
        job.deadline = 0
        job.backoff_until = 0
        self._mark("job", job)
        self.job_queue.push(job.type, job.key)

    def _retire_job(self, job: Job, state: str) -> None:
        job.state = state
        self.job_queue.remove(job.type, job.key)
        self._cancel("job", job.key)
        self._mark("job", job)

    def activate_jobs(self, job_type: str, worker: str, timeout_ms: int, max_jobs: int) -> list[Job]:
        activated: list[Job] = []
        deadline = now_ms() + timeout_ms
        for key in self.job_queue.take(job_type, max_jobs):
            job = self.jobs[key]
            job.state = "ACTIVATED"
            job.worker = worker
            job.deadline = deadline
            self._schedule_job_timeout(job)
            self._mark("job", job)
            activated.append(job)
            log.info("job activated key %d type %s worker %s", key, job_type, worker)
        self.commit()
        return activated

    def return_undelivered(self, jobs: Iterable[Job]) -> None:
        """Jobs activated for a request that could not receive them: activatable again, retries kept."""
        for job in jobs:
            if job.state == "ACTIVATED":
                log.info(
                    "job not delivered key %d type %s: activatable again (retries kept)", job.key, job.type
                )
                self._cancel("job", job.key)
                self._make_activatable(job)
        self.commit()

    def job_variables(self, job: Job, names: Iterable[str]) -> Variables:
        instance = self.instances[job.process_instance_key]
        variables = visible(instance, instance.elements.get(job.element_instance_key))
        wanted = list(names)
        if wanted:
            return {name: variables[name] for name in wanted if name in variables}
        return variables

    async def wait_for_jobs(self, job_type: str, timeout_s: float) -> None:
        await self.job_queue.wait(job_type, timeout_s)

    def _schedule_job_timeout(self, job: Job) -> None:
        deadline = job.deadline

        def timed_out() -> None:
            if job.state == "ACTIVATED" and job.deadline == deadline:
                log.info("job timed out key %d type %s: activatable again (retries kept)", job.key, job.type)
                self._make_activatable(job)

        self._schedule("job", job.key, "", deadline, timed_out)

    def _schedule_backoff(self, job: Job) -> None:
        def back_off_over() -> None:
            if job.state == "FAILED" and job.retries > 0:
                self._make_activatable(job)

        self._schedule("job", job.key, "", job.backoff_until, back_off_over)

    def _job_for_command(self, key: int, action: str) -> Job:
        job = self.jobs.get(key)
        if job is None or job.state in {"COMPLETED", "CANCELED"}:
            raise errors.not_found(f"Expected to {action} job with key '{key}', but no such job was found")
        if job.state not in {"ACTIVATABLE", "ACTIVATED"}:
            raise errors.invalid_state(
                f"Expected to {action} job with key '{key}', but it is in state '{job.state}'"
            )
        return job

    def _job_scope(self, job: Job) -> tuple[ProcessInstance, ElementInstance]:
        instance = self.instances[job.process_instance_key]
        return instance, instance.elements[job.element_instance_key]
