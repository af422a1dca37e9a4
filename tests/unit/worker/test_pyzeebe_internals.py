"""The parts of pyzeebe that worker_job/pyzeebe_adaptations.py relies on are still there, in the shape it
was written against.

This is the test that fails when pyzeebe changes: a new release (the pin moves) or one of the private
attributes, constructors and methods the adaptations use or override changing. Then read that release's
sources against worker_job/pyzeebe_adaptations.py before moving PYZEEBE_VERSION with the pin.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import grpc
import pytest
from pyzeebe import ZeebeWorker
from pyzeebe.grpc_internals.zeebe_adapter import ZeebeAdapter
from pyzeebe.worker.job_executor import JobExecutor
from pyzeebe.worker.job_poller import JobPoller
from pyzeebe.worker.task_state import TaskState

from worker_job.pyzeebe_adaptations import PYZEEBE_VERSION

ROOT = Path(__file__).resolve().parents[3]


def parameters(function: Callable[..., Any]) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def assigned_attributes(cls: type) -> str:
    """The source of the class's constructor, where its attributes are assigned."""
    return inspect.getsource(cls.__init__)  # type: ignore[misc]


def test_the_installed_pyzeebe_is_the_one_the_adaptations_were_read_against() -> None:
    assert version("pyzeebe") == PYZEEBE_VERSION


@pytest.mark.parametrize(
    "pinned_in", ["pyproject.toml", "requirements-dev.lock", "worker_job/requirements.txt"]
)
def test_every_pin_names_that_version(pinned_in: str) -> None:
    assert f"pyzeebe=={PYZEEBE_VERSION}" in (ROOT / pinned_in).read_text()


def test_the_worker_builds_its_pollers_and_executors_in_init_tasks() -> None:
    # FulfillmentWorker replaces _init_tasks, filling the three lists that pyzeebe's work() starts and its
    # stop() (which FulfillmentWorker calls last) stops.
    init_tasks = inspect.getsource(ZeebeWorker._init_tasks)
    work, stop = inspect.getsource(ZeebeWorker.work), inspect.getsource(ZeebeWorker.stop)
    assert "self._init_tasks()" in work
    for attribute in ("self._job_pollers", "self._job_executors", "self._job_streamers"):
        assert attribute in init_tasks, attribute
        assert attribute in work, attribute
        assert attribute in stop, attribute
    worker_init = assigned_attributes(ZeebeWorker)
    for attribute in ("self.zeebe_adapter =", "self.name =", "self.request_timeout ="):
        assert attribute in worker_init, attribute
    assert {"grpc_channel", "name", "request_timeout", "max_connection_retries"} <= set(
        parameters(ZeebeWorker.__init__)
    )
    assert inspect.iscoroutinefunction(ZeebeWorker.stop)
    assert inspect.iscoroutinefunction(ZeebeWorker.healthcheck)


def test_the_job_poller_takes_and_keeps_what_the_budgeted_poller_passes() -> None:
    assert parameters(JobPoller.__init__) == [
        "zeebe_adapter",
        "task",
        "queue",
        "worker_name",
        "request_timeout",
        "task_state",
        "poll_retry_delay",
        "tenant_ids",
    ]
    # Each is kept under its own name (BudgetedPoller reads them), and a stop event is made.
    poller_init = assigned_attributes(JobPoller)
    for attribute in [*parameters(JobPoller.__init__), "stop_event"]:
        assert f"self.{attribute} =" in poller_init, attribute
    # BudgetedPoller overrides both; pyzeebe's poll() calls activate_max_jobs().
    assert inspect.iscoroutinefunction(JobPoller.poll)
    assert inspect.iscoroutinefunction(JobPoller.activate_max_jobs)
    assert "self.activate_max_jobs()" in inspect.getsource(JobPoller.poll)


def test_the_executor_and_the_task_state_have_the_shape_the_budget_relies_on() -> None:
    assert parameters(JobExecutor.__init__) == ["task", "jobs", "task_state", "zeebe_adapter"]
    assert (parameters(TaskState.add), parameters(TaskState.remove), parameters(TaskState.count_active)) == (
        ["job"],
        ["job"],
        [],
    )
    # BudgetedTaskState gives a slot back only when remove() really removed the job.
    assert "self._active_jobs.remove(job.key)" in inspect.getsource(TaskState.remove)


def test_the_adapter_commands_the_back_pressure_adapter_repeats() -> None:
    assert parameters(ZeebeAdapter.__init__) == ["grpc_channel", "max_connection_retries"]
    for command in (ZeebeAdapter.complete_job, ZeebeAdapter.fail_job, ZeebeAdapter.throw_error):
        assert inspect.iscoroutinefunction(command), command.__name__
    # tasks.exception_handler fails a job through the adapter with its own retries and backoff.
    assert parameters(ZeebeAdapter.fail_job) == [
        "job_key",
        "retries",
        "message",
        "retry_back_off_ms",
        "variables",
    ]
    assert {
        "task_type",
        "worker",
        "timeout",
        "max_jobs_to_activate",
        "variables_to_fetch",
        "request_timeout",
        "tenant_ids",
    } == set(parameters(ZeebeAdapter.activate_jobs))


async def test_an_adapter_built_as_the_worker_builds_it_never_closes_its_channel() -> None:
    # max_connection_retries=-1: however many gateway errors, pyzeebe's adapter keeps the channel open.
    channel = grpc.aio.insecure_channel("127.0.0.1:9")
    try:
        adapter = ZeebeAdapter(channel, -1)
        adapter._current_connection_retries = 10**6
        assert adapter._should_retry()
    finally:
        await channel.close()
