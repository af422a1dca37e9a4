"""Job commands refused by back-pressure are sent again; other refusals are not; a command for a job that
no longer exists is dropped with one line."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest
from pyzeebe.errors import JobAlreadyDeactivatedError, ZeebeBackPressureError

from worker_job.pyzeebe_adaptations import BackPressureAdapter


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=code.name)


class Gateway:
    """Answers each call with the next outcome: an error to raise, or None for success."""

    def __init__(self, *outcomes: grpc.StatusCode | None) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[str] = []

    def __getattr__(self, rpc: str) -> Any:
        async def call(request: Any) -> None:
            self.calls.append(rpc)
            outcome = self.outcomes.pop(0)
            if outcome is not None:
                raise rpc_error(outcome)

        return call


@pytest.fixture
async def adapter() -> BackPressureAdapter:
    channel = grpc.aio.insecure_channel("127.0.0.1:9")  # never connected: the stub is replaced
    return BackPressureAdapter(channel, max_connection_retries=-1, patience_seconds=5)


async def test_a_thrown_error_refused_by_back_pressure_is_sent_again(adapter: BackPressureAdapter) -> None:
    exhausted = grpc.StatusCode.RESOURCE_EXHAUSTED
    gateway = Gateway(exhausted, exhausted, None)
    adapter._gateway_stub = gateway  # type: ignore[assignment]

    await adapter.throw_error(1, "not paid", {"failure_detail": "x"}, error_code="PAYMENT_NOT_AUTHORIZED")

    assert gateway.calls == ["ThrowError"] * 3


@pytest.mark.parametrize("command", ["complete", "fail"])
async def test_completions_and_failures_are_sent_again_too(
    adapter: BackPressureAdapter, command: str
) -> None:
    gateway = Gateway(grpc.StatusCode.RESOURCE_EXHAUSTED, None)
    adapter._gateway_stub = gateway  # type: ignore[assignment]

    if command == "complete":
        await adapter.complete_job(1, {})
    else:
        await adapter.fail_job(1, 2, "boom", 100, {})

    assert len(gateway.calls) == 2


async def test_other_refusals_are_not_repeated(adapter: BackPressureAdapter) -> None:
    gateway = Gateway(grpc.StatusCode.FAILED_PRECONDITION)
    adapter._gateway_stub = gateway  # type: ignore[assignment]

    with pytest.raises(JobAlreadyDeactivatedError):
        await adapter.complete_job(1, {})
    assert gateway.calls == ["CompleteJob"]


@pytest.mark.parametrize("command", ["complete", "fail", "throw"])
async def test_a_command_for_a_job_that_no_longer_exists_is_dropped_with_one_info_line(
    adapter: BackPressureAdapter, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Zeebe answers NOT_FOUND for a job whose step a boundary event interrupted while the job ran.
    gateway = Gateway(grpc.StatusCode.NOT_FOUND)
    adapter._gateway_stub = gateway  # type: ignore[assignment]

    with caplog.at_level(logging.INFO, logger="worker_job.pyzeebe_adaptations"):
        if command == "complete":
            await adapter.complete_job(7, {})
        elif command == "fail":
            await adapter.fail_job(7, 2, "boom", 100, {})
        else:
            await adapter.throw_error(7, "not paid", {}, error_code="X")

    assert len(gateway.calls) == 1
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert "job 7 no longer exists" in record.getMessage()


async def test_back_pressure_that_outlasts_the_patience_is_raised(adapter: BackPressureAdapter) -> None:
    adapter.patience_seconds = 0
    adapter._gateway_stub = Gateway(*[grpc.StatusCode.RESOURCE_EXHAUSTED] * 5)  # type: ignore[assignment]

    with pytest.raises(ZeebeBackPressureError):
        await adapter.throw_error(1, "not paid", {}, error_code="X")
