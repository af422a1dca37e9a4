"""The worker process over time: polling through engine outages, its heartbeat, the end of its maximum
runtime, its one budget of running jobs and its limits on calls to Medusa (their rate, and how many are
under way at once).

Real parts as in test_worker.py, whose Medusa stand-in and fixtures are reused: `python -m localzeebe`,
`python -m worker_job`, functions/status_update served by the functions-framework. Checks that need the
local engine's inspection view (which jobs are activated) are skipped against a real Zeebe.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.parts import free_port
from fulfillment.engine import EngineBridge
from fulfillment.settings import EngineSettings
from fulfillment.workflow import JobType

from . import test_worker as worker_tier
from .test_worker import FULFILLED, READY_TIMEOUT, Engine, FakeMedusa, WorkerRun, start_engine

pytestmark = pytest.mark.integration

engine = worker_tier.engine
medusa = worker_tier.medusa
status_function = worker_tier.status_function
start_worker = worker_tier.start_worker
publish = worker_tier.publish

JOB_TYPES = sorted(job_type.value for job_type in JobType)
OUTAGE_TIMEOUT = 60.0
StartWorker = Callable[..., WorkerRun]


def events(worker: WorkerRun, event: str) -> list[dict[str, Any]]:
    return [entry for entry in worker.lines() if entry.get("event") == event]


def heartbeats(worker: WorkerRun, polling: bool) -> list[dict[str, Any]]:
    return [beat for beat in events(worker, "worker_heartbeat") if beat["polling"] is polling]


def wait_for_heartbeats(
    worker: WorkerRun, polling: bool, count: int, timeout: float = OUTAGE_TIMEOUT
) -> None:
    """Until `count` heartbeats with this `polling` came after the ones already logged."""
    seen = len(heartbeats(worker, polling))
    worker.wait_for_log(lambda _: len(heartbeats(worker, polling)) >= seen + count, timeout)


def job_lines(worker: WorkerRun) -> list[tuple[int, str, str, str]]:
    """(line number, order id, job type, started|done) of every job line of the worker."""
    found = []
    for number, entry in enumerate(worker.lines()):
        match = re.fullmatch(r"job (\S+) (started|done).*", entry.get("message", ""))
        if match:
            found.append((number, entry["order_id"], match.group(1), match.group(2)))
    return found


def activated_jobs(engine: Engine) -> list[dict[str, Any]]:
    assert engine.http_url is not None
    response = httpx.get(f"{engine.http_url}/jobs", params={"state": "ACTIVATED"})
    response.raise_for_status()
    return list(response.json()["items"])


@pytest.fixture
def restartable_engine(tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """An engine on fixed ports with a data directory; calling the fixture's value stops and restarts it."""
    grpc_port, http_port, data = free_port(), free_port(), tmp_path / "engine-data"
    log = tmp_path / "restarted-engine.log"
    launched = [start_engine(log, grpc_port, http_port, data)[0]]

    def restart() -> Engine:
        launched[0].stop()
        launched[0], running = start_engine(log, grpc_port, http_port, data)
        return running

    restart.engine = Engine(launched[0].grpc_address, launched[0].http_url)  # type: ignore[attr-defined]
    restart.stop = lambda: launched[0].stop()  # type: ignore[attr-defined]
    yield restart
    launched[0].stop()


def test_the_same_worker_polls_through_an_engine_outage_and_its_heartbeat_says_when_it_cannot(
    medusa: FakeMedusa, start_worker: StartWorker, restartable_engine: Any
) -> None:
    engine: Engine = restartable_engine.engine
    bridge = EngineBridge.from_settings(EngineSettings(zeebe_address=engine.grpc_address))
    try:
        worker = start_worker(
            ZEEBE_ADDRESS=engine.grpc_address, WORKER_HEARTBEAT_SECONDS="1", WORKER_POLL_TIMEOUT_SECONDS="0.5"
        )
        medusa.add_order("order_before1")
        bridge.publish_order_placed("order_before1", {"order_id": "order_before1"})
        assert engine.wait_until_ended("order_before1")["state"] == "COMPLETED"
        wait_for_heartbeats(worker, polling=True, count=1)

        restartable_engine.stop()
        wait_for_heartbeats(worker, polling=False, count=3)  # several seconds without an engine
        assert worker.process.poll() is None
        engine = restartable_engine()
        medusa.add_order("order_after1")
        bridge.publish_order_placed("order_after1", {"order_id": "order_after1"})

        assert engine.wait_until_ended("order_after1", OUTAGE_TIMEOUT)["state"] == "COMPLETED"
        assert medusa.statuses("order_after1") == FULFILLED
        wait_for_heartbeats(worker, polling=True, count=1)
        assert worker.process.poll() is None, "the same process, never restarted"
    finally:
        bridge.close()

    beat = heartbeats(worker, polling=True)[-1]
    assert sorted(beat["job_types"]) == JOB_TYPES
    assert beat["active_jobs"] == 0
    assert beat["severity"] == "INFO"
    assert {b["severity"] for b in heartbeats(worker, polling=False)} == {"WARNING"}
    # One line when the engine went away and one when it came back, not one per failed poll.
    [gone] = events(worker, "engine_unreachable")
    assert gone["error_type"] == "ZeebeGatewayUnavailableError"
    assert [line["unreachable_seconds"] is None for line in events(worker, "engine_reachable")] == [
        True,
        False,
    ]
    assert not [e for e in worker.lines() if "Failed to activate jobs" in e.get("message", "")]


def test_at_its_maximum_runtime_the_worker_finishes_the_job_in_hand_activates_nothing_more_and_exits_zero(
    medusa: FakeMedusa, engine: Engine, start_worker: StartWorker, publish: Any
) -> None:
    medusa.add_order("order_slow1")
    medusa.add_order("order_late1")
    medusa.view_gates["order_slow1"] = release_slow = threading.Event()
    # The activation window ends 24 - 12 - 1 = 11 s after the process started; the slow job, started a
    # few seconds in, is still in hand then, and times out only after the window ends.
    worker = start_worker(
        WORKER_MAX_RUNTIME_SECONDS="24",
        WORKER_JOB_TIMEOUT_SECONDS="12",
        WORKER_SETTLE_SECONDS="1",  # a tenth of the job timeout at most
        WORKER_POLL_TIMEOUT_SECONDS="1",
        WORKER_HEARTBEAT_SECONDS="2",
        MEDUSA_TIMEOUT_SECONDS="30",  # the slow answer is held longer than the default 10 s
    )
    publish("order_slow1")
    worker.wait_for_log(lambda entry: entry.get("message", "").startswith("activation stopped"), timeout=30)
    publish("order_late1")  # in the last window: nothing may take it

    assert heartbeats(worker, polling=True)[-1]["active_jobs"] == 1, "the slow job, in hand"
    release_slow.set()
    assert worker.exit_code(timeout=30) == 0

    lines = worker.lines()
    [stop] = [n for n, entry in enumerate(lines) if entry.get("message", "").startswith("stopping (")]
    [last_poll] = [
        n for n, entry in enumerate(lines) if entry.get("message", "").startswith("activation stopped")
    ]
    assert lines[stop]["reason"].startswith("activation window over")
    assert lines[stop]["active_jobs"] == lines[last_poll]["active_jobs"] == 1
    jobs = job_lines(worker)
    assert [(order, kind) for n, order, _, kind in jobs if n > last_poll] == [("order_slow1", "done")]
    assert [(order, kind) for n, order, _, kind in jobs if n < stop] == [("order_slow1", "started")]
    assert medusa.statuses("order_slow1") == ["payment_verified"], "finished and reported"
    assert "order_late1" not in medusa.view_requests
    if engine.http_url is not None:
        assert activated_jobs(engine) == [], "nothing left locked to the worker that ended"

    # The next worker takes both orders at once: no job waits out a timeout.
    started = time.monotonic()
    start_worker()
    for order_id in ("order_slow1", "order_late1"):
        worker_tier.wait_for_outcome(engine, medusa, order_id)
        assert medusa.statuses(order_id) == FULFILLED
    assert time.monotonic() - started < 12


def test_the_worker_never_holds_more_jobs_than_it_runs_at_once(
    medusa: FakeMedusa, engine: Engine, start_worker: StartWorker, publish: Any
) -> None:
    if engine.http_url is None:
        pytest.skip("counts activated jobs through the local engine's inspection view")
    orders = [f"order_held{n}" for n in range(6)]
    gate = threading.Event()
    for order_id in orders:
        medusa.add_order(order_id)
        medusa.view_gates[order_id] = gate
    start_worker(WORKER_MAX_JOBS="2", WORKER_POLL_TIMEOUT_SECONDS="0.5")
    for order_id in orders:
        publish(order_id)

    deadline = time.monotonic() + READY_TIMEOUT
    while len(medusa.view_requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    # Both slots hold a job that waits for Medusa; four more jobs are ready in the engine for a while.
    most_activated = 0
    settle = time.monotonic() + 3
    while time.monotonic() < settle:
        most_activated = max(most_activated, len(activated_jobs(engine)))
        time.sleep(0.05)
    assert len(medusa.view_requests) == 2
    assert most_activated == 2

    gate.set()
    for order_id in orders:
        worker_tier.wait_for_outcome(engine, medusa, order_id)
        assert medusa.statuses(order_id) == FULFILLED


def test_a_burst_of_orders_never_calls_medusa_faster_than_the_limit(
    medusa: FakeMedusa, engine: Engine, start_worker: StartWorker, publish: Any
) -> None:
    rate = 5
    orders = [f"order_burst{n}" for n in range(10)]
    for order_id in orders:
        medusa.add_order(order_id)
    worker = start_worker(MEDUSA_CALLS_PER_SECOND=str(rate))

    for order_id in orders:
        publish(order_id)
    for order_id in orders:
        worker_tier.wait_for_outcome(engine, medusa, order_id, timeout=60)
        assert medusa.statuses(order_id) == FULFILLED

    with medusa.lock:
        arrivals = sorted(at for at, _ in medusa.arrivals)
    assert len(arrivals) == 4 * len(orders)  # one view, three status writes each
    # Calls start 1/rate apart at the worker; one more fits a second's window as they arrive a few
    # milliseconds apart after passing through the status function.
    for first, at in enumerate(arrivals):
        within_a_second = [later for later in arrivals[first:] if later - at < 1.0]
        assert len(within_a_second) <= rate + 1, f"{len(within_a_second)} calls within a second"
    assert (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) <= rate * 1.05
    assert not events(worker, "job_failed"), "a wait for a turn, never an error"


def test_the_worker_never_has_more_calls_under_way_at_medusa_than_its_bound(
    medusa: FakeMedusa, engine: Engine, start_worker: StartWorker, publish: Any
) -> None:
    bound = 2
    orders = [f"order_inflight{n}" for n in range(6)]
    gate = threading.Event()
    for order_id in orders:
        medusa.add_order(order_id)
        medusa.view_gates[order_id] = gate
    # No rate to speak of: only the bound holds calls back.
    worker = start_worker(MEDUSA_MAX_CALLS_IN_FLIGHT=str(bound), MEDUSA_CALLS_PER_SECOND="1000")
    for order_id in orders:
        publish(order_id)

    def started_checks() -> set[str]:
        return {
            order
            for _, order, job, state in job_lines(worker)
            if (job, state) == ("verify-payment", "started")
        }

    # Every order's payment check runs; two of them wait at Medusa for their view, the others for a place.
    worker.wait_for_log(lambda _: started_checks() == set(orders) and len(medusa.view_requests) >= bound)
    with medusa.lock:
        assert len(medusa.view_requests) == bound, medusa.view_requests
    gate.set()
    for order_id in orders:
        worker_tier.wait_for_outcome(engine, medusa, order_id)
        assert medusa.statuses(order_id) == FULFILLED

    assert medusa.most_under_way == bound
    assert not events(worker, "job_failed"), "a wait for a place, never an error"
