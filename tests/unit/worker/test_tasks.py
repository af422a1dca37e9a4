"""Job plumbing: BPMN errors vs. retried failures, backoff, log binding and task registration."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from pyzeebe import ZeebeWorker
from pyzeebe.errors import BusinessError

from fulfillment.logs import setup_logging
from fulfillment.rate_limit import current_deadline
from fulfillment.workflow import BpmnErrorCode
from worker_job.job_context import MissingJobVariable
from worker_job.outcomes import BusinessOutcome
from worker_job.services import Services
from worker_job.tasks import (
    FETCHED_VARIABLES,
    HANDLERS,
    TaskLimits,
    exception_handler,
    fault_retry,
    job_deadline,
    job_function,
    register_tasks,
)

from ..helpers import ORDER_ID
from .factories import PROCESS_INSTANCE_KEY, make_job

LIMITS = TaskLimits(
    max_jobs_to_activate=16,
    max_running_jobs=32,
    job_timeout_ms=120_000,
    retry_backoff_ms=1_000,
    max_retry_backoff_ms=5_000,
    outage_window_ms=60_000,
)
NOW_MS = 1_800_000_000_000


class RecordingController:
    """Records the command pyzeebe's JobController would send to the engine."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, dict[str, Any]]] = []

    async def set_error_status(self, message: str, error_code: str = "", variables: Any = None) -> None:
        self.commands.append(
            ("throw_error", {"message": message, "code": error_code, "variables": variables})
        )


class RecordingAdapter:
    """Records the FailJob command the handler sends through pyzeebe's adapter."""

    def __init__(self) -> None:
        self.failed: list[dict[str, Any]] = []

    async def fail_job(self, **command: Any) -> None:
        self.failed.append(command)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    setup_logging("test", stream=stream)
    yield stream
    logging.getLogger().handlers.clear()


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("faults_before", "expected"), [(0, 1_000), (1, 2_000), (2, 4_000), (3, 5_000), (40, 5_000)]
)
def test_backoff_doubles_with_every_fault_up_to_the_cap(faults_before: int, expected: int) -> None:
    job = make_job(technical_fault_since_ms=NOW_MS, technical_faults=faults_before)
    assert fault_retry(job, LIMITS, NOW_MS).backoff_ms == expected


def test_within_the_outage_window_the_retries_stay_and_the_first_fault_is_remembered() -> None:
    first = fault_retry(make_job(retries=5), LIMITS, NOW_MS)
    assert (first.retries, first.variables) == (
        5,
        {"technical_fault_since_ms": NOW_MS, "technical_faults": 1},
    )

    since, faults = first.variables["technical_fault_since_ms"], first.variables["technical_faults"]
    later = make_job(retries=5, technical_fault_since_ms=since, technical_faults=faults)
    again = fault_retry(later, LIMITS, NOW_MS + 59_000)
    assert again.retries == 5
    assert again.variables == {"technical_fault_since_ms": NOW_MS, "technical_faults": 2}


def test_after_the_outage_window_the_job_has_no_retries_left() -> None:
    job = make_job(retries=5, technical_fault_since_ms=NOW_MS, technical_faults=30)
    assert fault_retry(job, LIMITS, NOW_MS + 60_000).retries == 0


async def test_business_error_becomes_a_bpmn_error_carrying_the_cause() -> None:
    controller = RecordingController()
    error = BusinessError("STOCK_MISSING", "not reserved: Mug: 0 of 2 reserved")

    await exception_handler(LIMITS, RecordingAdapter())(error, make_job(), controller)  # type: ignore[arg-type]

    assert controller.commands == [
        (
            "throw_error",
            {
                "message": "not reserved: Mug: 0 of 2 reserved",
                "code": "STOCK_MISSING",
                "variables": {"failure_detail": "not reserved: Mug: 0 of 2 reserved"},
            },
        )
    ]


async def test_a_business_outcome_throws_its_variables_too() -> None:
    controller = RecordingController()
    error = BusinessOutcome(BpmnErrorCode.STOCK_MISSING, "Mug: 0 of 2", stock_policy="cancel")

    await exception_handler(LIMITS, RecordingAdapter())(error, make_job(), controller)  # type: ignore[arg-type]

    (command,) = controller.commands
    assert command[1]["variables"] == {"failure_detail": "Mug: 0 of 2", "stock_policy": "cancel"}


async def test_other_errors_fail_the_job_with_backoff_and_the_retries_unchanged(
    log_lines: io.StringIO,
) -> None:
    adapter = RecordingAdapter()
    job = make_job(retries=4, technical_fault_since_ms=int(time.time() * 1000), technical_faults=1)

    await exception_handler(LIMITS, adapter)(RuntimeError("boom"), job, RecordingController())  # type: ignore[arg-type]

    (command,) = adapter.failed
    assert command["retries"] == 4
    assert command["retry_back_off_ms"] == 2_000
    assert command["message"] == "RuntimeError: boom"
    assert command["variables"]["technical_faults"] == 2
    (line,) = parsed(log_lines)
    assert line["severity"] == "WARNING"
    assert line["order_id"] == ORDER_ID
    assert line["process_instance_key"] == PROCESS_INSTANCE_KEY


async def test_the_failure_after_the_window_is_logged_as_an_error_naming_the_incident(
    log_lines: io.StringIO,
) -> None:
    adapter = RecordingAdapter()
    job = make_job(retries=5, technical_fault_since_ms=int(time.time() * 1000) - 61_000, technical_faults=9)

    await exception_handler(LIMITS, adapter)(RuntimeError("boom"), job, RecordingController())  # type: ignore[arg-type]

    assert adapter.failed[0]["retries"] == 0

    (line,) = parsed(log_lines)
    assert line["severity"] == "ERROR"
    assert "incident" in line["message"]


def test_job_function_binds_the_order_to_every_log_line(log_lines: io.StringIO) -> None:
    def handler(ctx: Any, services: Any) -> dict[str, Any]:
        logging.getLogger("handler").info("inside")
        return {"seen": ctx.order_id}

    run = job_function(next(iter(HANDLERS)), handler, services=None)  # type: ignore[arg-type]

    assert run(make_job()) == {"seen": ORDER_ID}
    lines = parsed(log_lines)
    assert [line["message"] for line in lines][1] == "inside"
    assert {line["order_id"] for line in lines} == {ORDER_ID}
    assert {line["process_instance_key"] for line in lines} == {PROCESS_INSTANCE_KEY}


def test_a_job_without_a_valid_order_id_fails() -> None:
    run = job_function(next(iter(HANDLERS)), lambda ctx, services: {}, services=None)  # type: ignore[arg-type]

    with pytest.raises(MissingJobVariable):
        run(make_job(order_id="not-an-order"))


async def test_every_job_type_of_the_model_is_registered_with_the_limits() -> None:
    channel = grpc.aio.insecure_channel("127.0.0.1:9")
    worker = ZeebeWorker(channel)

    register_tasks(worker, Services(medusa=None, orders=None, status=None), LIMITS)  # type: ignore[arg-type]

    assert sorted(task.type for task in worker.tasks) == [
        "fail-order",
        "record-canceled",
        "reserve-inventory",
        "send-notification",
        "verify-payment",
    ]
    for task in worker.tasks:
        assert task.config.max_running_jobs > task.config.max_jobs_to_activate
        assert task.config.timeout_ms == 120_000
        assert list(task.config.variables_to_fetch or []) == list(FETCHED_VARIABLES)
        # pyzeebe found the Job parameter (it compares annotations with its Job class).
        assert task.config.job_parameter_name == "job"
    await channel.close()


def test_registered_functions_receive_the_job_and_ignore_extra_variables() -> None:
    run = job_function(next(iter(HANDLERS)), lambda ctx, services: {"ok": True}, services=None)  # type: ignore[arg-type]

    assert run(make_job(), order_id=ORDER_ID, failure_status="payment_failed") == {"ok": True}


def test_a_jobs_deadline_is_the_engines_but_never_more_than_a_timeout_away() -> None:
    clocks = (lambda: 100.0, lambda: 1_800_000_000.0)  # monotonic, wall
    due_in_30_s = dataclasses.replace(make_job(), deadline=1_800_000_030_000)
    due_in_an_hour = dataclasses.replace(make_job(), deadline=1_800_003_600_000)

    assert job_deadline(due_in_30_s, 120_000, clocks) == pytest.approx(130.0)
    assert job_deadline(due_in_an_hour, 120_000, clocks) == pytest.approx(220.0), "a clock far off"
    assert job_deadline(make_job(), 120_000, clocks) == pytest.approx(220.0), "no deadline given"


def test_the_handler_runs_within_the_jobs_deadline() -> None:
    seen: list[float] = []

    def handler(ctx: object, services: object) -> dict[str, Any]:
        seen.append(current_deadline())
        return {}

    run = job_function(next(iter(HANDLERS)), handler, services=None, job_timeout_ms=60_000)  # type: ignore[arg-type]

    before = time.monotonic()
    run(make_job())

    assert before + 60 <= seen[0] <= time.monotonic() + 60
    assert current_deadline() == float("inf"), "bound only while the job runs"
