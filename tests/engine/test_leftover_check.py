"""The session check that the engine tests leave no job of a production type on the engine they share
(conftest.no_production_jobs_left), the guard that keeps the tests' gateway off those job types, and the
scan that keeps every other engine test off the production job types, messages and process id (a job left
locked by another client would escape the session check). The first two run on a private engine, so the
jobs of production types created here reach nothing else."""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import pytest

from fulfillment.workflow import CANCELED_MESSAGE_NAME, MESSAGE_NAME, PROCESS_ID, JobType
from localzeebe.launcher import LocalEngine

from .support import (
    PRODUCTION_JOB_TYPES,
    Gateway,
    LeftoverCheck,
    describe_jobs,
    eventually,
    one_task_process,
    unique,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def private(tmp_path: Path) -> AsyncIterator[tuple[LocalEngine, Gateway]]:
    with LocalEngine.start(log_path=tmp_path / "engine.log") as engine:
        client = Gateway(engine.grpc_address)
        yield engine, client
        await client.close()


def _activatable_instances(engine: LocalEngine) -> set[int]:
    return {job["process_instance_key"] for job in engine.inspect("/jobs", state="ACTIVATABLE")["items"]}


async def test_reports_and_cancels_only_the_production_jobs_created_after_it_started(
    private: tuple[LocalEngine, Gateway],
) -> None:
    engine, client = private
    production, own = unique("production"), unique("own")
    await client.deploy("production.bpmn", one_task_process(production, JobType.RESERVE_INVENTORY))
    await client.deploy("own.bpmn", one_task_process(own, unique("own-type")))
    earlier = await client.create(production)  # there before the check started: not the tests'
    check = LeftoverCheck(engine.grpc_address, lock_ms=1)
    await check.start()
    assert await eventually(lambda: earlier in _activatable_instances(engine)), "the look gave it back"

    left_behind = await client.create(production)
    other = await client.create(own)
    assert _activatable_instances(engine) >= {earlier, left_behind, other}

    found = await check.left()
    assert [job.processInstanceKey for job in found] == [left_behind]
    assert f"reserve-inventory at {production}/task (instance {left_behind})" == describe_jobs(found)

    await check.cancel_instances(found)
    states = {
        item["key"]: item["state"]
        for item in engine.inspect("/process-instances", bpmn_process_id=production)["items"]
    }
    assert states == {earlier: "ACTIVE", left_behind: "TERMINATED"}


async def test_the_tests_gateway_refuses_to_activate_production_job_types(
    private: tuple[LocalEngine, Gateway],
) -> None:
    _, client = private
    for job_type in JobType:
        with pytest.raises(AssertionError, match="job types of their own"):
            await client.activate(job_type)


# The files that may name the production job types, messages or process id: the tests' own guard and
# check (support.py, this file) and the project-model tests, which rename all of them per test.
MAY_NAME_PRODUCTION: Final = {"support.py", "test_leftover_check.py", "test_project_process.py"}


def production_names_in(source: str) -> list[str]:
    """The production job types, message names and process id a test module names: as string literals
    (also inside longer strings, e.g. a BPMN template) or through the JobType enum."""
    names = {*PRODUCTION_JOB_TYPES, MESSAGE_NAME, CANCELED_MESSAGE_NAME, PROCESS_ID}
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [name for name in sorted(names) if re.search(rf"(?<![\w-]){name}(?![\w-])", node.value)]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "JobType"
        ):
            found.append(f"JobType.{node.attr}")
    return found


def test_no_other_engine_test_names_a_production_job_type_message_or_process() -> None:
    """The session check sees only jobs that are activatable when the last engine test ends; a job a test
    activated through another client and left locked would come back later for the worker tier. So the
    tests stay off the production names altogether, except where the names are renamed per test."""
    here = Path(__file__).parent
    named = {
        path.name: found
        for path in sorted(here.glob("*.py"))
        if path.name not in MAY_NAME_PRODUCTION and (found := production_names_in(path.read_text()))
    }
    assert named == {}


def test_the_name_scan_finds_each_way_of_naming_them() -> None:
    source = (
        'a = "verify-payment"\n'
        "b = '<zeebe:taskDefinition type=\"fail-order\" />'\n"
        "c = JobType.RECORD_CANCELED\n"
        'd = "order-placed-1234"\n'  # renamed per test: not the production name
        'e = "prefix-reserve-inventory"\n'
    )
    assert production_names_in(source) == ["verify-payment", "fail-order", "JobType.RECORD_CANCELED"]
