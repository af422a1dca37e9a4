"""Job commands sent again while the engine is in back-pressure.

A Zeebe partition that is over its command limit answers RESOURCE_EXHAUSTED and the command has no effect.
pyzeebe logs that and drops the outcome, so the job stays locked to this worker until its timeout and is
then run a second time. Here a command refused that way is sent again after a growing, jittered pause
(pyzeebe's poller already waits before polling again after back-pressure). Completing and failing jobs are
never limited by Zeebe (its RequestLimiter lets them through); throwing a BPMN error is.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import grpc
from pyzeebe.errors import ZeebeBackPressureError
from pyzeebe.grpc_internals.types import CompleteJobResponse, FailJobResponse, ThrowErrorResponse
from pyzeebe.grpc_internals.zeebe_adapter import ZeebeAdapter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_delay,
    wait_random_exponential,
)

logger = logging.getLogger(__name__)

FIRST_PAUSE_SECONDS: Final = 0.1
LONGEST_PAUSE_SECONDS: Final = 5.0


def _log_pause(state: RetryCallState) -> None:
    pause = state.next_action.sleep if state.next_action else 0.0
    logger.info(
        "job command refused by back-pressure (attempt %d): sent again in %.2f s", state.attempt_number, pause
    )


class BackPressureAdapter(ZeebeAdapter):
    """pyzeebe's gateway adapter whose job commands outlast back-pressure (for at most `patience_seconds`:
    after the job's timeout the engine hands the job out again anyway)."""

    def __init__(
        self, channel: grpc.aio.Channel, max_connection_retries: int, patience_seconds: float
    ) -> None:
        super().__init__(channel, max_connection_retries)
        self.patience_seconds = patience_seconds

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception_type(ZeebeBackPressureError),
            wait=wait_random_exponential(multiplier=FIRST_PAUSE_SECONDS, max=LONGEST_PAUSE_SECONDS),
            stop=stop_after_delay(self.patience_seconds),
            before_sleep=_log_pause,
            reraise=True,
        )

    async def complete_job(self, *args: Any, **kwargs: Any) -> CompleteJobResponse:
        async for attempt in self._retrying():
            with attempt:
                return await super().complete_job(*args, **kwargs)
        raise AssertionError("unreachable: the retrying loop returns or raises")

    async def fail_job(self, *args: Any, **kwargs: Any) -> FailJobResponse:
        async for attempt in self._retrying():
            with attempt:
                return await super().fail_job(*args, **kwargs)
        raise AssertionError("unreachable: the retrying loop returns or raises")

    async def throw_error(self, *args: Any, **kwargs: Any) -> ThrowErrorResponse:
        async for attempt in self._retrying():
            with attempt:
                return await super().throw_error(*args, **kwargs)
        raise AssertionError("unreachable: the retrying loop returns or raises")
