"""The worker's heartbeat: one log line every WORKER_HEARTBEAT_SECONDS saying whether it is polling.

    {"event": "worker_heartbeat", "polling": true, "active_jobs": 3, "job_types": ["verify-payment", ...]}

`polling` is true only while the worker can reach the engine: a poll round trip came back within the
last interval. When every slot of the job budget is taken the pollers wait for a slot and make no round
trips; the heartbeat then asks the gateway for its health itself, so a busy worker is not taken for a
lost one. Stopping (draining after SIGTERM or at the end of the activation window), or unable to reach
the engine, the line says `"polling": false` (as a WARNING). The alert on "no polling=true heartbeat for
5 minutes" (terraform/) feeds on these lines, so it fires when no worker polls, whether none runs at all
or all of them are cut off from the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from worker_job.capacity import JobBudget
from worker_job.gateway_link import GatewayLink

logger = logging.getLogger(__name__)

HEALTH_PROBE_TIMEOUT_SECONDS: Final = 10.0


@dataclass
class Heartbeat:
    link: GatewayLink
    budget: JobBudget
    job_types: Sequence[str]
    interval_seconds: float
    # The gateway's health check (pyzeebe's ZeebeWorker.healthcheck), asked only when the budget is full.
    probe: Callable[[], Awaitable[Any]]
    stopping: Callable[[], bool] = lambda: False

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            await self.beat()

    async def beat(self) -> bool:
        polling = not self.stopping() and await self._engine_answers()
        (logger.info if polling else logger.warning)(
            "worker heartbeat: %s, %d jobs running",
            "polling" if polling else "NOT polling",
            self.budget.jobs_in_hand,
            extra={
                "event": "worker_heartbeat",
                "polling": polling,
                "active_jobs": self.budget.jobs_in_hand,
                "job_types": list(self.job_types),
            },
        )
        return polling

    async def _engine_answers(self) -> bool:
        if self.link.answered_within(self.interval_seconds):
            return True
        if not self.budget.exhausted:
            return False
        try:
            await asyncio.wait_for(self.probe(), HEALTH_PROBE_TIMEOUT_SECONDS)
        except Exception:  # no answer, whatever the reason: not polling
            return False
        return True
