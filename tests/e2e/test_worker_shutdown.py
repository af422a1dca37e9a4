"""SIGTERM to the worker while it has jobs in flight: it finishes them, exits 0, and no order is lost."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack.shop import PlacedOrder
from devstack.stack import Stack

from .support import TERMINAL, Driver, poll

pytestmark = pytest.mark.e2e

ORDERS = 4
# The worker's log lines when a job starts and when it ends (done, BPMN error, or failed for a retry).
JOB_STARTED = re.compile(r"^job (?P<job>[a-z-]+) started")
JOB_ENDED = re.compile(r"^(job (?P<done>[a-z-]+) (done|failed)|BPMN error \S+ thrown by (?P<error>[a-z-]+))")


def _open_jobs(worker_log: Path) -> set[tuple[str, str]]:
    return _jobs_around_stop(worker_log)[2]


def _jobs_around_stop(
    worker_log: Path,
) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[tuple[str, str]]]:
    """Jobs as (order, job): in flight when SIGTERM arrived, finished after it, not finished yet."""
    open_jobs: set[tuple[str, str]] = set()
    in_flight_at_stop: set[tuple[str, str]] = set()
    finished_after_stop: set[tuple[str, str]] = set()
    stopping = False
    # Only this worker process: the log file also holds earlier runs, each after a "--- ... starting:" line.
    this_run = worker_log.read_text().rsplit("\n--- ", 1)[-1]
    for line in this_run.splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:  # the line the worker is writing right now
            continue
        message = str(record.get("message", ""))
        if message.startswith("stopping (SIGTERM)"):
            stopping, in_flight_at_stop = True, set(open_jobs)
        order_id = str(record.get("order_id"))
        if started := JOB_STARTED.match(message):
            open_jobs.add((order_id, started["job"]))
        elif ended := JOB_ENDED.match(message):
            job = (order_id, ended["done"] or ended["error"])
            open_jobs.discard(job)
            if stopping:
                finished_after_stop.add(job)
    return in_flight_at_stop, finished_after_stop, open_jobs


def test_worker_sigterm_with_jobs_in_flight_loses_no_order(stack: Stack, driver: Driver) -> None:
    worker_log = stack.group.get("worker").log_path
    with ThreadPoolExecutor(ORDERS) as pool:
        placing = [pool.submit(driver.place_order) for _ in range(ORDERS)]
        # SIGTERM while a job runs: a job talks to Medusa for some 100 ms, so poll the log often.
        poll(lambda: bool(_open_jobs(worker_log)), 60, lambda: "a job to start", interval=0.05)
        exit_code = stack.stop_part("worker")
        try:
            orders: list[PlacedOrder] = [future.result() for future in placing]
            stopped_run_log = worker_log.read_text()
            in_flight, finished, _ = _jobs_around_stop(worker_log)
        finally:
            stack.start_worker()  # whatever happens here, the tests after this one need a worker

    assert exit_code == 0, stopped_run_log[-3000:]
    assert in_flight, "no job was in flight when SIGTERM arrived"
    assert in_flight <= finished, f"jobs in flight at SIGTERM that did not finish: {in_flight - finished}"
    finals = {order.id: driver.wait_for_status(order.id, TERMINAL, timeout=90) for order in orders}
    assert {m["workflow_status"] for m in finals.values()} == {"completed"}, finals
    for order in orders:
        assert len(driver.instances(order.id)) == 1
