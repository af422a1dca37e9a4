"""The engine's opt-in back-pressure (`--back-pressure SHARE`) and its handling of activated jobs that cannot
be delivered. A real Zeebe cannot be put under back-pressure on demand, so these run on the local engine."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb

from localzeebe.backpressure import BackPressure
from localzeebe.engine import Engine
from localzeebe.launcher import LocalEngine
from localzeebe.server import Gateway as GatewayService
from localzeebe.server import start_grpc

from .support import Gateway, expect_status, one_task_process, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def refusing_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    log_path = tmp_path_factory.mktemp("pressure") / "engine.log"
    with LocalEngine.start(log_path=log_path, options=["--back-pressure", "1"]) as engine:
        yield engine


@pytest.fixture
async def refusing(refusing_engine: LocalEngine) -> AsyncIterator[Gateway]:
    client = Gateway(refusing_engine.grpc_address)
    yield client
    await client.close()


def test_the_share_spreads_refusals_evenly() -> None:
    def pattern(share: float) -> str:
        back_pressure = BackPressure(share)
        return "".join("x" if back_pressure.refuses_next() else "." for _ in range(12))

    assert pattern(0) == "." * 12
    assert pattern(0.25) == "...x...x...x"
    assert pattern(0.5) == ".x.x.x.x.x.x"
    assert pattern(1) == "x" * 12
    with pytest.raises(ValueError, match="between 0 and 1"):
        BackPressure(1.5)


async def test_limited_commands_are_answered_resource_exhausted(refusing: Gateway) -> None:
    process_id, job_type = unique("pressure"), unique("job")
    await refusing.deploy("p.bpmn", one_task_process(process_id, job_type))  # never limited, as in Zeebe
    await refusing.stub.Topology(pb.TopologyRequest())

    exhausted = grpc.StatusCode.RESOURCE_EXHAUSTED
    error = await expect_status(exhausted, refusing.create(process_id))
    assert "back-pressure" in (error.details() or "")
    await expect_status(exhausted, refusing.create_with_result(process_id, timeout_ms=500))
    await expect_status(exhausted, refusing.publish(unique("message"), "order_1", 60_000, "order_1"))
    await expect_status(exhausted, refusing.activate(job_type, request_timeout_ms=-1))
    await expect_status(exhausted, refusing.throw_error(2251799813685248 + 999_999, "CODE"))


async def test_completing_and_failing_jobs_are_never_limited(tmp_path: Path) -> None:
    """Zeebe lets the commands that free resources through; with half the commands refused, a client that
    repeats only the refused ones still completes every instance."""
    with LocalEngine.start(log_path=tmp_path / "engine.log", options=["--back-pressure", "0.5"]) as engine:
        gateway = Gateway(engine.grpc_address)
        try:
            process_id, job_type = unique("half"), unique("job")
            await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
            refused = 0

            async def until_admitted(call: Callable[[], Awaitable[Any]]) -> Any:
                nonlocal refused
                while True:
                    try:
                        return await call()
                    except grpc.aio.AioRpcError as error:
                        if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                            raise
                        refused += 1

            for _ in range(4):
                await until_admitted(lambda: gateway.create(process_id))
            jobs: list[Any] = []
            while len(jobs) < 4:
                jobs += await until_admitted(lambda: gateway.activate(job_type, request_timeout_ms=-1))
            await gateway.fail(jobs[0].key, retries=2, message="retry")  # never refused
            for job in jobs[1:]:
                await gateway.complete(job.key)  # never refused
            again = await until_admitted(lambda: gateway.activate(job_type, request_timeout_ms=-1))
            await gateway.complete(again[0].key)
            assert refused >= 4, "half of the limited commands should have been refused"
        finally:
            await gateway.close()


class _ClientGone:
    """A call whose client went away: writing the response fails as grpc.aio's does for a cancelled RPC."""

    async def write(self, message: Any) -> None:
        raise asyncio.CancelledError

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise AssertionError(f"unexpected abort {code}: {details}")


async def test_jobs_that_cannot_be_delivered_are_activatable_again_at_once_with_their_retries() -> None:
    engine = Engine()
    server, port = await start_grpc(engine, "127.0.0.1", 0)
    client = Gateway(f"127.0.0.1:{port}")
    try:
        process_id, job_type = unique("undelivered"), unique("job")
        await client.deploy("p.bpmn", one_task_process(process_id, job_type, retries="4"))
        instance_key = await client.create(process_id, {"n": 1})
        request = pb.ActivateJobsRequest(
            type=job_type, worker="gone", timeout=600_000, maxJobsToActivate=5, requestTimeout=-1
        )
        service = GatewayService(engine, ("127.0.0.1", port))
        with pytest.raises(asyncio.CancelledError):
            await service.ActivateJobs(request, _ClientGone())

        # Not locked for the 10-minute job timeout: the next request gets it, retries unchanged.
        job = await client.activate_one(job_type, wait_ms=2000)
        assert (job.processInstanceKey, job.retries) == (instance_key, 4)
        assert json.loads(job.variables) == {"n": 1}
    finally:
        await client.close()
        await server.stop(grace=None)
