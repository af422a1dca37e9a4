"""Worker lifecycle decisions: stop on signal or max runtime, give up on a dead gateway, settings wiring."""

from __future__ import annotations

import asyncio
from typing import Any

import respx

from fulfillment.signatures import verify
from worker_job.app import (
    EXIT_ENGINE_UNREACHABLE,
    EXIT_FATAL,
    EXIT_OK,
    Lifecycle,
    build_services,
    task_limits,
)
from worker_job.config import WorkerJobSettings

from ..helpers import MEDUSA_URL, ORDER_ID, new_webhook_secret
from .factories import order_view


def settings(**overrides: Any) -> WorkerJobSettings:
    values: dict[str, Any] = {
        "medusa_backend_url": MEDUSA_URL,
        "medusa_worker_secret": new_webhook_secret(),
        "status_update_url": "https://status.test/",
        "status_update_secret": new_webhook_secret(),
        "worker_health_interval_seconds": 0.05,
        "worker_unhealthy_exit_seconds": 0.2,
    }
    values.update(overrides)
    return WorkerJobSettings(**values)


class FakeWorker:
    """Stands in for the pyzeebe worker: work() runs until stop(), which first lets a job finish."""

    def __init__(self, *, healthy: bool = True, dies: bool = False) -> None:
        self.healthy = healthy
        self.dies = dies
        self.working = asyncio.Event()
        self.stopping = asyncio.Event()
        self.stopped = asyncio.Event()
        # The job in flight ends when the test says so; by default it ends at once.
        self.job_done = asyncio.Event()
        self.job_done.set()
        self.job_finished = False

    async def work(self) -> None:
        if self.dies:
            raise RuntimeError("pollers gave up")
        self.working.set()
        await self.stopped.wait()

    async def stop(self) -> None:
        self.stopping.set()
        await self.job_done.wait()
        self.job_finished = True
        self.stopped.set()

    async def healthcheck(self) -> None:
        if not self.healthy:
            raise ConnectionError("gateway unavailable")


def lifecycle(worker: FakeWorker, **overrides: Any) -> Lifecycle:
    return Lifecycle(worker, settings(**overrides))  # type: ignore[arg-type]


async def test_a_stop_request_drains_the_job_in_flight_and_exits_zero() -> None:
    # The real SIGTERM is sent to a real worker process in tests/integration/test_worker.py.
    worker = FakeWorker()
    worker.job_done.clear()  # a job is in flight until the test ends it
    run = lifecycle(worker)
    task = asyncio.create_task(run.run())
    await asyncio.wait_for(worker.working.wait(), 5)

    run.request_stop("SIGTERM")
    run.request_stop("SIGINT")  # a second signal changes nothing
    await asyncio.wait_for(worker.stopping.wait(), 5)
    assert not task.done()  # still waiting for the job in flight

    worker.job_done.set()
    assert await asyncio.wait_for(task, 5) == EXIT_OK
    assert worker.job_finished
    assert run.stop_reason == "SIGTERM"


async def test_maximum_runtime_stops_cleanly() -> None:
    worker = FakeWorker()
    started = loop_time()

    code = await asyncio.wait_for(lifecycle(worker, worker_max_runtime_seconds=0.3).run(), 5)

    assert code == EXIT_OK
    assert worker.job_finished
    assert 0.3 <= loop_time() - started < 2


async def test_no_maximum_runtime_means_running_until_told() -> None:
    run = lifecycle(FakeWorker())
    task = asyncio.create_task(run.run())

    await asyncio.sleep(0.5)
    assert not task.done()
    run.request_stop("test over")
    assert await asyncio.wait_for(task, 5) == EXIT_OK


async def test_a_gateway_unreachable_beyond_the_grace_ends_non_zero() -> None:
    worker = FakeWorker(healthy=False)

    code = await asyncio.wait_for(lifecycle(worker).run(), 5)

    assert code == EXIT_ENGINE_UNREACHABLE
    assert worker.job_finished  # still drained what was in flight


async def test_a_healthy_gateway_keeps_the_worker_running() -> None:
    run = lifecycle(FakeWorker(healthy=True))
    task = asyncio.create_task(run.run())

    await asyncio.sleep(0.6)  # three times the grace, many health checks
    assert not task.done()
    run.request_stop("test over")
    await asyncio.wait_for(task, 5)


async def test_a_worker_that_dies_on_its_own_ends_non_zero() -> None:
    code = await asyncio.wait_for(lifecycle(FakeWorker(dies=True)).run(), 5)

    assert code == EXIT_FATAL


def test_limits_leave_room_to_poll_while_jobs_run() -> None:
    limits = task_limits(settings(worker_max_jobs=32))

    assert limits.max_running_jobs == 32
    assert limits.max_jobs_to_activate == 16
    assert task_limits(settings(worker_max_jobs=1)).max_jobs_to_activate == 1


def test_the_worker_signs_its_plugin_calls_with_the_first_worker_secret() -> None:
    newest, older = new_webhook_secret(), new_webhook_secret()
    services = build_services(settings(medusa_worker_secret=f"{newest} {older}"))
    with respx.mock(assert_all_called=True) as http:
        route = http.post(f"{MEDUSA_URL}/fulfillment-workflow/orders/{ORDER_ID}/view")
        route.respond(200, json={"order": order_view()})

        services.medusa.view_order(ORDER_ID)

    request = route.calls.last.request
    verify([newest], dict(request.headers), request.content)
    assert "authorization" not in request.headers, "no Medusa API key"
    services.medusa.close()
    services.status.close()


def loop_time() -> float:
    return asyncio.get_running_loop().time()
