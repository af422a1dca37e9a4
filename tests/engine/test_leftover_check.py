"""The session check that the engine tests leave no job of a production type on the engine they share
(conftest.no_production_jobs_left), and the guard that keeps the tests off those job types. They run on a
private engine, so the jobs of production types created here reach nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fulfillment.workflow import JobType
from localzeebe.launcher import LocalEngine

from .support import Gateway, LeftoverCheck, describe_jobs, eventually, one_task_process, unique

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
