"""The heartbeat line and the gateway link it reads (the real worker's lines: tests/integration)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from worker_job.capacity import JobBudget
from worker_job.gateway_link import GatewayLink
from worker_job.heartbeat import Heartbeat

JOB_TYPES = ["verify-payment", "reserve-inventory"]
INTERVAL = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Probe:
    def __init__(self, answers: bool) -> None:
        self.answers = answers
        self.asked = 0

    async def __call__(self) -> None:
        self.asked += 1
        if not self.answers:
            raise ConnectionError("no route to the gateway")


def heartbeat(link: GatewayLink, budget: JobBudget, probe: Probe, stopping: bool = False) -> Heartbeat:
    return Heartbeat(link, budget, JOB_TYPES, INTERVAL, probe, stopping=lambda: stopping)


def logged(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    return [{**vars(r), "level": r.levelname} for r in caplog.records if getattr(r, "event", None) == event]


@pytest.fixture(autouse=True)
def _info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="worker_job")


async def test_polling_while_a_poll_came_back_within_the_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    link, budget, probe = GatewayLink(clock), JobBudget(8), Probe(answers=True)
    link.answered(link.now())
    await budget.reserve(3)
    for _ in range(2):
        budget.job_activated()  # two of the three slots hold jobs, one waits on a long poll
    clock.now += INTERVAL - 1

    assert await heartbeat(link, budget, probe).beat() is True

    [line] = logged(caplog, "worker_heartbeat")
    assert (line["polling"], line["active_jobs"], line["job_types"]) == (True, 2, JOB_TYPES)
    assert line["level"] == "INFO"
    assert probe.asked == 0


async def test_not_polling_when_no_poll_came_back_within_the_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    link, probe = GatewayLink(clock), Probe(answers=True)
    link.answered(link.now())
    clock.now += INTERVAL + 1

    assert await heartbeat(link, JobBudget(8), probe).beat() is False

    [line] = logged(caplog, "worker_heartbeat")
    assert (line["polling"], line["active_jobs"], line["level"]) == (False, 0, "WARNING")
    assert probe.asked == 0, "free slots: the pollers would have polled if they could"


async def test_never_polled_is_not_polling() -> None:
    assert await heartbeat(GatewayLink(Clock()), JobBudget(8), Probe(answers=True)).beat() is False


@pytest.mark.parametrize("gateway_answers", [True, False])
async def test_a_full_budget_asks_the_gateway_itself(gateway_answers: bool) -> None:
    clock = Clock()
    link, budget, probe = GatewayLink(clock), JobBudget(2), Probe(gateway_answers)
    link.answered(link.now())
    await budget.reserve(2)
    clock.now += INTERVAL * 5  # busy: the pollers wait for slots and make no round trips

    assert await heartbeat(link, budget, probe).beat() is gateway_answers
    assert probe.asked == 1


async def test_a_stopping_worker_is_not_polling() -> None:
    link = GatewayLink(Clock())
    link.answered(link.now())

    assert await heartbeat(link, JobBudget(8), Probe(answers=True), stopping=True).beat() is False


def test_the_link_logs_each_change_of_state_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    link = GatewayLink(clock)

    link.answered(link.now())
    link.answered(link.now())
    clock.now += 5
    for _ in range(20):
        link.failed(ConnectionRefusedError("connection refused"), link.now())
    clock.now += 42
    link.answered(link.now())
    link.answered(link.now())

    reachable = logged(caplog, "engine_reachable")
    unreachable = logged(caplog, "engine_unreachable")
    assert [line["unreachable_seconds"] for line in reachable] == [None, 42.0]
    assert [(line["error_type"], line["level"]) for line in unreachable] == [
        ("ConnectionRefusedError", "WARNING")
    ]
    assert "connection refused" in unreachable[0]["msg"] % unreachable[0]["args"]
    assert link.answered_within(0)


def test_calls_opened_before_the_last_change_do_not_change_the_state(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    link = GatewayLink(clock)
    link.answered(link.now())
    long_poll_opened = link.now()
    clock.now += 1
    link.failed(ConnectionRefusedError("connection refused"), link.now())  # a new call: the engine is gone
    clock.now += 1

    link.answered(long_poll_opened)  # a gateway shutting down still answers the long polls it held
    assert link.reachable is False
    assert not link.answered_within(1.5), "no round trip since the engine went"

    recovered_call = link.now()
    link.answered(recovered_call)
    link.failed(TimeoutError("deadline exceeded"), long_poll_opened)  # opened while it was gone
    assert link.reachable is True
    assert len(logged(caplog, "engine_unreachable")) == 1
    assert len(logged(caplog, "engine_reachable")) == 2
