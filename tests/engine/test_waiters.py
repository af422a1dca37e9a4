"""Requests that wait (long polls, CreateProcessInstanceWithResult) leave nothing behind when they give up.

The gateway runs in-process here, so the test can see the engine's waiters after the client is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc
import pytest

from localzeebe.engine import Engine
from localzeebe.server import start_grpc

from .support import Gateway, eventually, expect_status, one_task_process, unique


@pytest.fixture
async def served() -> AsyncIterator[tuple[Engine, Gateway]]:
    engine = Engine()
    server, port = await start_grpc(engine, "127.0.0.1", 0)
    client = Gateway(f"127.0.0.1:{port}")
    try:
        yield engine, client
    finally:
        await client.close()
        await server.stop(grace=None)


async def _cancelled(call: asyncio.Task[object]) -> None:
    call.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await call


async def test_a_long_poll_the_client_cancels_leaves_no_waiter(served: tuple[Engine, Gateway]) -> None:
    engine, client = served
    poll = asyncio.create_task(client.activate(unique("nothing"), request_timeout_ms=10_000))
    assert await eventually(lambda: len(engine.job_queue.waiters) == 1)
    await _cancelled(poll)
    assert await eventually(lambda: len(engine.job_queue.waiters) == 0)


async def test_a_result_request_that_times_out_or_is_cancelled_leaves_no_waiter(
    served: tuple[Engine, Gateway],
) -> None:
    engine, client = served
    process_id = unique("waits")
    await client.deploy("p.bpmn", one_task_process(process_id, unique("never-worked")))

    refused = await expect_status(
        grpc.StatusCode.DEADLINE_EXCEEDED, client.create_with_result(process_id, timeout_ms=200)
    )
    assert "did not complete within the request timeout" in (refused.details() or "")
    assert len(engine.result_waiters) == 0

    waiting = asyncio.create_task(client.create_with_result(process_id, timeout_ms=10_000))
    assert await eventually(lambda: len(engine.result_waiters) == 1)
    await _cancelled(waiting)
    assert await eventually(lambda: len(engine.result_waiters) == 0)
