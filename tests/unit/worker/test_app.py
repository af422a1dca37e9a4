"""Worker lifecycle decisions: stop on signal or at the end of the activation window, keep running while the
engine is unreachable, settings wiring."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from fulfillment.rate_limit import call_deadline
from fulfillment.settings import load_settings
from fulfillment.signatures import verify
from fulfillment.workflow import WorkflowStatus
from worker_job.app import (
    EXIT_FATAL,
    EXIT_OK,
    Lifecycle,
    build_services,
    task_limits,
)
from worker_job.capacity import JobBudget
from worker_job.config import WorkerJobSettings
from worker_job.gateway_link import GatewayLink
from worker_job.status_reporter import StatusReportFailed

from ..helpers import MEDUSA_URL, ORDER_ID, new_webhook_secret
from .factories import make_context, order_view


def settings(**overrides: Any) -> WorkerJobSettings:
    values: dict[str, Any] = {
        "medusa_backend_url": MEDUSA_URL,
        "medusa_worker_secret": new_webhook_secret(),
        "status_update_url": "https://status.test/",
        "status_update_secret": new_webhook_secret(),
    }
    values.update(overrides)
    return WorkerJobSettings(**values)


class FakeWorker:
    """Stands in for the pyzeebe worker: work() runs until stop(), which first lets a job finish."""

    def __init__(self, *, healthy: bool = True, dies: bool = False) -> None:
        self.healthy = healthy
        self.dies = dies
        self.link = GatewayLink()
        self.budget = JobBudget(4)
        self.job_types = ["verify-payment"]
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
    return Lifecycle(worker, settings(**overrides), started_at=time.monotonic())  # type: ignore[arg-type]


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


async def test_the_end_of_the_activation_window_stops_cleanly() -> None:
    worker = FakeWorker()
    started = loop_time()
    # Durations wide enough that a busy machine's late timers cannot carry the stop past the runtime.
    window = {"worker_max_runtime_seconds": 2.4, "worker_job_timeout_seconds": 0.8, "worker_max_jobs": 1}
    window["worker_settle_seconds"] = 0  # a tenth of the job timeout at most
    run = lifecycle(
        worker,
        worker_poll_timeout_seconds=0.4,
        worker_heartbeat_seconds=1,
        medusa_calls_per_second=100,
        **window,
    )

    code = await asyncio.wait_for(run.run(), 5)

    assert code == EXIT_OK
    assert worker.job_finished
    # No activation after runtime - job timeout - poll timeout: the last jobs time out before the end.
    # Before runtime - poll timeout (2.0 s) too: a window that forgot the job timeout would end there.
    assert 1.2 <= loop_time() - started < 2.0
    assert run.stop_reason.startswith("activation window over")


async def test_no_maximum_runtime_means_running_until_told() -> None:
    run = lifecycle(FakeWorker())
    task = asyncio.create_task(run.run())

    await asyncio.sleep(0.5)
    assert not task.done()
    run.request_stop("test over")
    assert await asyncio.wait_for(task, 5) == EXIT_OK


async def test_an_unreachable_gateway_never_ends_the_worker() -> None:
    worker = FakeWorker(healthy=False)
    worker.link.failed(ConnectionError("connection refused"), worker.link.now())
    run = lifecycle(worker, worker_poll_timeout_seconds=0.01, worker_heartbeat_seconds=0.05)
    beats = HeartbeatCounter(wanted=5)
    logging.getLogger("worker_job.heartbeat").addHandler(beats)
    task = asyncio.create_task(run.run())
    try:
        await asyncio.wait_for(beats.enough.wait(), 5)
    finally:
        logging.getLogger("worker_job.heartbeat").removeHandler(beats)

    assert not task.done()
    assert beats.polling == [False] * len(beats.polling), "each beat says the worker is not polling"
    run.request_stop("test over")
    assert await asyncio.wait_for(task, 5) == EXIT_OK


async def test_a_worker_that_dies_on_its_own_ends_non_zero() -> None:
    code = await asyncio.wait_for(lifecycle(FakeWorker(dies=True)).run(), 5)

    assert code == EXIT_FATAL


def test_one_poll_asks_for_a_fair_share_of_the_one_budget() -> None:
    limits = task_limits(settings(worker_max_jobs=32))

    assert limits.max_running_jobs == 32
    assert limits.max_jobs_to_activate == 6  # 32 slots shared by five job types
    assert task_limits(settings(worker_max_jobs=3)).max_jobs_to_activate == 1


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (
            {"worker_max_runtime_seconds": 120, "worker_job_timeout_seconds": 120},
            "WORKER_MAX_RUNTIME_SECONDS",
        ),
        ({"worker_heartbeat_seconds": 5, "worker_poll_timeout_seconds": 5}, "WORKER_HEARTBEAT_SECONDS"),
        ({"worker_max_jobs": 100, "medusa_calls_per_second": 2}, "MEDUSA_CALLS_PER_SECOND"),
        ({"worker_settle_seconds": 12.5, "worker_job_timeout_seconds": 120}, "WORKER_SETTLE_SECONDS"),
        ({"worker_settle_seconds": 3, "worker_job_timeout_seconds": 20}, "WORKER_SETTLE_SECONDS"),
    ],
)
def test_durations_that_do_not_fit_together_are_refused(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        settings(**overrides)


@pytest.mark.parametrize("seconds", [-1, 61])
def test_a_settle_interval_out_of_bounds_is_refused(seconds: float) -> None:
    with pytest.raises(ValidationError, match="worker_settle_seconds"):
        settings(worker_settle_seconds=seconds, worker_job_timeout_seconds=3600)


def test_the_settle_interval_may_take_a_tenth_of_the_job_timeout() -> None:
    assert settings(worker_settle_seconds=12, worker_job_timeout_seconds=120).worker_settle_seconds == 12
    assert settings(worker_settle_seconds=0).worker_settle_seconds == 0  # decide on the second read at once


@pytest.mark.parametrize(("given", "waited"), [({}, 3.0), ({"worker_settle_seconds": 7.5}, 7.5)])
def test_the_order_reads_wait_the_configured_settle_interval(given: dict[str, Any], waited: float) -> None:
    services = build_services(settings(**given))

    assert services.orders.settle_seconds == waited
    services.medusa.close()
    services.status.close()


@pytest.fixture
def worker_env(clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    clean_env.setenv("MEDUSA_BACKEND_URL", MEDUSA_URL)
    clean_env.setenv("MEDUSA_WORKER_SECRET", new_webhook_secret())
    clean_env.setenv("STATUS_UPDATE_URL", "https://status.test/")
    clean_env.setenv("STATUS_UPDATE_SECRET", new_webhook_secret())
    return clean_env


def test_the_settle_interval_is_read_from_the_environment(worker_env: pytest.MonkeyPatch) -> None:
    worker_env.setenv("WORKER_SETTLE_SECONDS", "1.5")

    assert load_settings(WorkerJobSettings).worker_settle_seconds == 1.5


def test_a_settle_interval_too_long_for_the_job_timeout_stops_the_start_naming_it(
    worker_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_env.setenv("WORKER_SETTLE_SECONDS", "30")  # the job timeout stays 120 s

    with pytest.raises(SystemExit) as exited:
        load_settings(WorkerJobSettings)

    assert exited.value.code == 2
    line = capsys.readouterr().err
    assert "WORKER_SETTLE_SECONDS must be at most a tenth of WORKER_JOB_TIMEOUT_SECONDS" in line


def test_the_activation_window_leaves_one_job_timeout_and_one_long_poll() -> None:
    limited = settings(
        worker_max_runtime_seconds=3600, worker_job_timeout_seconds=120, worker_poll_timeout_seconds=5
    )

    assert limited.activation_window_seconds == 3475
    assert settings().activation_window_seconds is None  # no maximum runtime


def test_the_worker_signs_its_plugin_calls_with_the_first_worker_secret() -> None:
    newest, older = new_webhook_secret(), new_webhook_secret()
    services = build_services(settings(medusa_worker_secret=f"{newest} {older}"))
    with respx.mock(assert_all_called=True) as http:
        route = http.post(f"{MEDUSA_URL}/fulfillment-workflow/orders/{ORDER_ID}/view")
        route.respond(200, json={"order": order_view()})

        services.orders.view_order(ORDER_ID)

    request = route.calls.last.request
    verify([newest], dict(request.headers), request.content)
    assert "authorization" not in request.headers, "no Medusa API key"
    services.medusa.close()
    services.status.close()


def test_the_medusa_client_and_the_status_reports_share_one_bound_on_calls_in_flight() -> None:
    services = build_services(settings(medusa_max_calls_in_flight=1))
    refused: list[StatusReportFailed] = []

    def view_under_way(_: httpx.Request) -> httpx.Response:
        # The only place is this call's: a status report of another job finds none before its deadline.
        with call_deadline(time.monotonic() + 0.05):
            try:
                services.status.report(make_context(), WorkflowStatus.PAYMENT_VERIFIED, "paid")
            except StatusReportFailed as exc:
                refused.append(exc)
        return httpx.Response(200, json={"order": order_view()})

    with respx.mock(assert_all_called=False) as http:
        http.post(f"{MEDUSA_URL}/fulfillment-workflow/orders/{ORDER_ID}/view").mock(
            side_effect=view_under_way
        )
        status = http.post("https://status.test/").respond(200, json={"applied": True})

        services.orders.view_order(ORDER_ID)

    assert len(refused) == 1
    assert "deadline" in str(refused[0])
    assert not status.called
    services.medusa.close()
    services.status.close()


@pytest.mark.parametrize("bound", [0, 257])
def test_a_bound_on_calls_in_flight_outside_one_to_256_is_refused(bound: int) -> None:
    assert settings().medusa_max_calls_in_flight == 8
    with pytest.raises(ValidationError, match="medusa_max_calls_in_flight"):
        settings(medusa_max_calls_in_flight=bound)


class HeartbeatCounter(logging.Handler):
    """Collects the `polling` field of heartbeat lines; `enough` is set after `wanted` of them."""

    def __init__(self, wanted: int) -> None:
        super().__init__()
        self.wanted = wanted
        self.polling: list[bool] = []
        self.enough = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", None) == "worker_heartbeat":
            self.polling.append(record.polling)  # type: ignore[attr-defined]
            if len(self.polling) >= self.wanted:
                self.enough.set()


def loop_time() -> float:
    return asyncio.get_running_loop().time()
