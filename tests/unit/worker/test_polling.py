"""The pollers: one budget of running jobs for all job types, and polling that outlasts any engine outage.

The worker here is the real FulfillmentWorker with its real pollers and pyzeebe's executors; only its
gateway adapter is a stand-in that answers ActivateJobs from a script (the real engine in
tests/integration/test_worker_runtime.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import grpc
import pytest
from pyzeebe import Job
from pyzeebe.errors import (
    ActivateJobsRequestInvalidError,
    UnknownGrpcStatusCodeError,
    ZeebeBackPressureError,
    ZeebeGatewayUnavailableError,
)

from worker_job import pyzeebe_adaptations
from worker_job.capacity import JobBudget
from worker_job.gateway_link import LONGEST_PAUSE_SECONDS, GatewayLink, pause_after
from worker_job.pyzeebe_adaptations import FulfillmentWorker

from .factories import make_job

JOB_TYPES = ["verify-payment", "reserve-inventory", "send-notification", "fail-order", "record-canceled"]


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=code.name)


class ScriptedGateway:
    """Answers ActivateJobs with as many jobs as asked for (an endless backlog), or raises what the script
    says; records how many jobs each open call asked for."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.calls = 0
        self.asked: list[int] = []
        self.open_asks = 0  # jobs asked for by calls still open
        self.completed: list[int] = []
        self._keys = itertools.count(1)

    async def activate_jobs(
        self, *, task_type: str, max_jobs_to_activate: int, **_: Any
    ) -> AsyncIterator[Job]:
        self.calls += 1
        self.asked.append(max_jobs_to_activate)
        self.open_asks += max_jobs_to_activate
        try:
            await asyncio.sleep(0)
            if self.failures:
                raise self.failures.pop(0)
            for _job in range(max_jobs_to_activate):
                yield dataclasses.replace(make_job(task_type), key=next(self._keys))
        finally:
            self.open_asks -= max_jobs_to_activate

    async def complete_job(self, job_key: int, variables: Any) -> None:
        self.completed.append(job_key)


@pytest.fixture
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Pollers retry at once; returns the failure counts they asked pauses for."""
    asked: list[int] = []

    def pause(failures: int) -> float:
        asked.append(failures)
        return 0.0

    monkeypatch.setattr(pyzeebe_adaptations, "pause_after", pause)
    return asked


@pytest.fixture
async def worker() -> AsyncIterator[FulfillmentWorker]:
    channel = grpc.aio.insecure_channel("127.0.0.1:9")  # never used: the gateway is a stand-in
    yield FulfillmentWorker(channel, max_jobs=8, back_pressure_patience_seconds=1)
    await channel.close()


def serve_job_types(worker: FulfillmentWorker, gateway: ScriptedGateway, gate: asyncio.Event) -> list[int]:
    """Every job type runs jobs that wait for `gate`; returns the list of jobs running, updated live."""
    running = [0]
    peak = [0]

    async def job(**_variables: Any) -> dict[str, Any]:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        try:
            await gate.wait()
        finally:
            running[0] -= 1
        return {}

    for job_type in JOB_TYPES:
        worker.task(job_type, max_jobs_to_activate=6)(cast(Callable[..., Any], job))
    worker.zeebe_adapter = gateway  # type: ignore[assignment]
    return peak


async def wait_for(condition: Any, within_s: float = 5.0) -> None:
    """Until `condition()` holds (the jobs run on this loop: a short sleep lets them move)."""
    give_up = time.monotonic() + within_s
    while True:
        if condition():
            return
        assert time.monotonic() < give_up, "the condition never held"
        await asyncio.sleep(0.005)


async def test_all_job_types_together_never_hold_more_jobs_than_the_budget(
    worker: FulfillmentWorker, no_pauses: list[int]
) -> None:
    gateway = ScriptedGateway()
    gate = asyncio.Event()
    peak_running = serve_job_types(worker, gateway, gate)
    work = asyncio.create_task(worker.work())

    await wait_for(lambda: worker.budget.jobs_in_hand == 8)
    await asyncio.sleep(0.05)  # the pollers had every chance to ask for more
    assert worker.budget.peak == 8, "five job types x six per poll would be 30"
    assert peak_running[0] == 8
    assert gateway.open_asks == 0, "no poll is open while every slot holds a job"

    gate.set()  # the jobs end; their slots go to new polls
    await wait_for(lambda: len(gateway.completed) >= 40)
    await worker.stop()
    await work
    assert worker.budget.peak == 8
    assert worker.budget.jobs_in_hand == 0
    assert worker.budget.reserved == 0


async def test_an_idle_job_type_holds_one_slot_for_its_long_poll(
    worker: FulfillmentWorker, no_pauses: list[int]
) -> None:
    serve_job_types(worker, ScriptedGateway(), asyncio.Event())
    budget = JobBudget(8)
    gateway = ScriptedGateway()
    state = pyzeebe_adaptations.BudgetedTaskState(budget)
    poller = pyzeebe_adaptations.BudgetedPoller(
        gateway,  # type: ignore[arg-type]
        worker.tasks[0],  # asks for up to six jobs per poll
        asyncio.Queue(),
        worker_name="test",
        request_timeout=1000,
        task_state=state,
        link=GatewayLink(),
    )
    gateway.failures = []

    async def empty_answers(**kwargs: Any) -> AsyncIterator[Job]:
        gateway.asked.append(kwargs["max_jobs_to_activate"])
        await asyncio.sleep(0.01)
        return
        yield  # an async generator that yields nothing

    gateway.activate_jobs = empty_answers  # type: ignore[method-assign]
    task = asyncio.create_task(poller.poll())
    await wait_for(lambda: len(gateway.asked) >= 3)
    poller.stop_event.set()
    await task

    assert gateway.asked[:3] == [6, 1, 1], "a full share first, one slot once the type is idle"
    assert budget.reserved == 0


async def test_polling_goes_on_through_failures_of_any_kind_logging_each_change_once(
    worker: FulfillmentWorker, no_pauses: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="worker_job")
    failures: list[Exception] = [
        ZeebeGatewayUnavailableError(rpc_error(grpc.StatusCode.UNAVAILABLE)),
        ZeebeGatewayUnavailableError(rpc_error(grpc.StatusCode.UNAVAILABLE)),
        # pyzeebe's own poller lets these two end the whole worker:
        UnknownGrpcStatusCodeError(rpc_error(grpc.StatusCode.UNAUTHENTICATED)),
        RuntimeError("the OAuth token endpoint is down"),
    ]
    gateway = ScriptedGateway(failures * 5)
    gate = asyncio.Event()
    gate.set()
    serve_job_types(worker, gateway, gate)
    work = asyncio.create_task(worker.work())

    await wait_for(lambda: len(gateway.completed) >= 10)
    await worker.stop()
    await work

    events = [
        getattr(r, "event", None) for r in caplog.records if getattr(r, "event", "").startswith("engine_")
    ]
    assert events[0] == "engine_unreachable"
    assert events.count("engine_unreachable") == 1, "one line for the outage, not one per attempt"
    assert events[-1] == "engine_reachable"
    assert not [r for r in caplog.records if r.name.startswith("pyzeebe") and r.levelno >= logging.WARNING]
    assert max(no_pauses) >= 2, "the pause grows with the failures in a row"


async def test_back_pressure_is_an_answer_not_an_outage(
    worker: FulfillmentWorker, no_pauses: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="worker_job")
    refused = ZeebeBackPressureError(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED))
    gateway = ScriptedGateway([refused, refused])
    gate = asyncio.Event()
    gate.set()
    serve_job_types(worker, gateway, gate)
    work = asyncio.create_task(worker.work())

    await wait_for(lambda: len(gateway.completed) >= 1)
    await worker.stop()
    await work

    assert no_pauses == [1, 1], "each poller refused backs off"
    logged = [getattr(r, "event", None) for r in caplog.records]
    assert logged.count("engine_back_pressure") == 1
    assert "engine_unreachable" not in logged


async def test_a_request_the_gateway_calls_invalid_still_ends_the_worker(
    worker: FulfillmentWorker, no_pauses: list[int]
) -> None:
    gateway = ScriptedGateway([ActivateJobsRequestInvalidError("verify-payment", "test", 0, 1)])
    serve_job_types(worker, gateway, asyncio.Event())

    with pytest.raises(ExceptionGroup) as ended:
        await asyncio.wait_for(worker.work(), 5)

    assert ended.group_contains(ActivateJobsRequestInvalidError)


async def test_a_stop_does_not_wait_for_a_pause_to_end(
    worker: FulfillmentWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pyzeebe_adaptations, "pause_after", lambda failures: 60.0)
    unavailable = ZeebeGatewayUnavailableError(rpc_error(grpc.StatusCode.UNAVAILABLE))
    gateway = ScriptedGateway([unavailable] * len(JOB_TYPES))
    serve_job_types(worker, gateway, asyncio.Event())
    work = asyncio.create_task(worker.work())
    await wait_for(lambda: gateway.calls == len(JOB_TYPES))  # every poller failed and pauses for a minute

    await asyncio.wait_for(worker.stop(), 5)
    await work


@pytest.mark.parametrize("failures", [1, 2, 5, 10, 1000])
def test_pauses_grow_from_half_a_second_to_a_cap(failures: int) -> None:
    shortest = pause_after(failures, draw=lambda low, high: low)
    longest = pause_after(failures, draw=lambda low, high: high)

    assert longest == min(LONGEST_PAUSE_SECONDS, 0.5 * 2 ** (failures - 1))
    assert shortest == longest / 2
