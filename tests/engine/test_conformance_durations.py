"""Conformance: the timer durations Zeebe accepts, observed through the gateway only.

Zeebe reads a timeDuration (static, or the string a FEEL expression gives) with its Interval.parse: an ISO
8601 period and/or duration, signed or not (`P1M`, `P1Y2M`, `P1W`, `P1DT2H`, `-PT1S`). A period moves on
the calendar; a zero or negative duration gives a due date that is not in the future, and the timer
checker triggers it at once. A text it cannot parse is refused at deployment when static, and raises an
incident when a FEEL expression gives it.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from .support import (
    Gateway,
    Target,
    definitions,
    end,
    expect_status,
    flow,
    start,
    task,
    timer_catch,
    timer_process,
    unique,
)

pytestmark = pytest.mark.contract


@pytest.mark.parametrize(
    ("duration", "variables"),
    [
        ("P1M", {}),
        ("P1Y2M", {}),
        ("P1W", {}),
        ("P1DT2H", {}),
        ("=pause", {"pause": "P1M"}),
        ("=pause", {"pause": "P1Y2M3DT4H"}),
        ("=pause", {"pause": "P2W"}),
    ],
)
async def test_calendar_durations_arm_a_timer_that_waits(
    gateway: Gateway, duration: str, variables: dict[str, Any]
) -> None:
    """The task's job exists (an incident at activation would create none) and the timer has not fired:
    the job completes and the instance leaves the task normally."""
    process_id, job_type, on_timer = unique("calendar"), unique("work"), unique("late")
    await gateway.deploy("p.bpmn", timer_process(process_id, job_type, on_timer, duration=duration))
    await gateway.create(process_id, variables)
    job = await gateway.activate_one(job_type)
    await gateway.complete(job.key)
    assert await gateway.activate(on_timer, request_timeout_ms=300) == []


def _wait_then_work(process_id: str, job_type: str, duration: str) -> bytes:
    body = (
        start()
        + timer_catch("wait", duration)
        + task("work", job_type)
        + end()
        + flow("f1", "start", "wait")
        + flow("f2", "wait", "work")
        + flow("f3", "work", "end")
    )
    return definitions(process_id, body)


@pytest.mark.parametrize(
    ("duration", "variables"),
    [
        ("-PT1S", {}),
        ("PT0S", {}),
        ("P0D", {}),
        ("=pause", {"pause": "-P1D"}),
        ("=pause", {"pause": "-P1M"}),
        ("=pause", {"pause": "PT-10M"}),
    ],
)
async def test_a_zero_or_negative_duration_fires_at_once(
    gateway: Gateway, duration: str, variables: dict[str, Any]
) -> None:
    process_id, job_type = unique("negative"), unique("after-wait")
    await gateway.deploy("p.bpmn", _wait_then_work(process_id, job_type, duration))
    await gateway.create(process_id, variables)
    job = await gateway.activate_one(job_type, wait_ms=5000)  # a positive -P1D (a day) would never come
    assert job.elementId == "work"
    await gateway.complete(job.key)


async def test_a_negative_duration_on_an_interrupting_boundary_event_interrupts_at_once(
    gateway: Gateway,
) -> None:
    process_id, job_type, on_timer = unique("negative"), unique("work"), unique("late")
    await gateway.deploy("p.bpmn", timer_process(process_id, job_type, on_timer, duration="-PT5M"))
    instance_key = await gateway.create(process_id)

    escalation = await gateway.activate_one(on_timer, wait_ms=5000)
    assert escalation.processInstanceKey == instance_key
    assert await gateway.activate(job_type, request_timeout_ms=300) == [], "the task was terminated"
    await gateway.complete(escalation.key)


@pytest.mark.parametrize("duration", ["P1M2", "1S", "PT", "pt1s", "P1DT"])
async def test_a_static_duration_zeebe_cannot_parse_is_refused_at_deployment(
    gateway: Gateway, duration: str
) -> None:
    process_id = unique("bad-static")
    model = timer_process(process_id, unique("work"), unique("late"), duration=duration)
    refused = await expect_status(grpc.StatusCode.INVALID_ARGUMENT, gateway.deploy("p.bpmn", model))
    assert "late" in (refused.details() or ""), "the refusal names the timer event"


@pytest.mark.parametrize("value", ["P1M2", " PT1S", "soon"])
async def test_a_feel_duration_zeebe_cannot_parse_raises_an_incident(
    gateway: Gateway, target: Target, value: str
) -> None:
    """The task is not activated: no job, and with the local engine the incident is visible."""
    process_id, job_type, on_timer = unique("bad-feel"), unique("work"), unique("late")
    await gateway.deploy("p.bpmn", timer_process(process_id, job_type, on_timer, duration="=pause"))
    instance_key = await gateway.create(process_id, {"pause": value})
    assert await gateway.activate(job_type, request_timeout_ms=500) == []
    if target.engine is not None:
        [incident] = target.engine.inspect(f"/process-instances/{instance_key}")["incidents"]
        assert incident["error_type"] == "EXTRACT_VALUE_ERROR"
        assert f"Invalid duration format '{value}'" in incident["error_message"]
