"""Conformance: intermediate timer catch events and interrupting message boundary events, observed through
the gateway API only (so the same tests run against a real Zeebe).

Zeebe's documentation (BPMN timer events, message events, "Message correlation"): a timer catch event waits
for its duration, also in a loop; a message boundary event opens its subscription when the task is
activated, with the correlation key evaluated then; a published message is correlated to open
subscriptions, and with a time to live it is buffered so that a subscription opened later still takes it;
an interrupting boundary event terminates the task, whose job can then no longer be completed.
"""

from __future__ import annotations

import json
import time

import grpc
import pytest

from .support import (
    Gateway,
    definitions,
    end,
    expect_status,
    flow,
    gateway,
    message,
    message_boundary,
    start,
    task,
    timer_catch,
    unique,
)

pytestmark = pytest.mark.contract


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


async def test_a_timer_catch_event_holds_the_token_for_its_duration(gateway: Gateway) -> None:
    process_id, job_type = unique("wait"), unique("after-wait")
    await gateway.deploy("p.bpmn", _wait_then_work(process_id, job_type, "=pause"))
    created = time.monotonic()
    await gateway.create(process_id, {"pause": "PT2S"})
    assert await gateway.activate(job_type, request_timeout_ms=500) == [], "the token is still waiting"
    job = await gateway.activate_one(job_type, wait_ms=15_000)
    assert time.monotonic() - created >= 1.9
    assert job.elementId == "work"


def _recheck_loop(process_id: str, job_type: str, done_type: str) -> bytes:
    """check -> paid? -> (no) wait PT1S -> check again; (yes) -> done: the shape of a re-check loop."""
    body = (
        start()
        + task("check", job_type)
        + gateway("paid", default="to_wait")
        + timer_catch("wait", "PT1S")
        + task("done", done_type)
        + end()
        + flow("f1", "start", "check")
        + flow("f2", "check", "paid")
        + flow("to_done", "paid", "done", '=state = "paid"')
        + flow("to_wait", "paid", "wait")
        + flow("f3", "wait", "check")
        + flow("f4", "done", "end")
    )
    return definitions(process_id, body)


async def test_a_timer_catch_event_in_a_loop_waits_on_every_round(gateway: Gateway) -> None:
    process_id, check, done = unique("loop"), unique("check"), unique("done")
    await gateway.deploy("p.bpmn", _recheck_loop(process_id, check, done))
    await gateway.create(process_id)
    for _ in range(2):
        job = await gateway.activate_one(check)
        await gateway.complete(job.key, {"state": "open"})
        assert await gateway.activate(check, request_timeout_ms=300) == [], "each round waits first"
    job = await gateway.activate_one(check, wait_ms=10_000)
    await gateway.complete(job.key, {"state": "paid"})
    assert (await gateway.activate_one(done)).elementId == "done"


def _cancelable(process_id: str, job_type: str, on_cancel: str, message_name: str) -> bytes:
    body = (
        start()
        + task("work", job_type)
        + message_boundary("canceled", "work", "msg_cancel")
        + task("record", on_cancel)
        + end()
        + end("ended_canceled")
        + flow("f1", "start", "work")
        + flow("f2", "work", "end")
        + flow("f3", "canceled", "record")
        + flow("f4", "record", "ended_canceled")
    )
    return definitions(process_id, body, message("msg_cancel", message_name, "=order_id"))


async def test_a_message_interrupts_the_task_it_is_correlated_to(gateway: Gateway) -> None:
    process_id, job_type, on_cancel = unique("cancelable"), unique("work"), unique("record")
    name = unique("canceled")
    await gateway.deploy("p.bpmn", _cancelable(process_id, job_type, on_cancel, name))
    await gateway.create(process_id, {"order_id": "order_A"})
    await gateway.create(process_id, {"order_id": "order_B"})
    jobs = [await gateway.activate_one(job_type) for _ in range(2)]
    by_order = {json.loads(job.variables)["order_id"]: job for job in jobs}

    await gateway.publish(name, "order_A", variables={"reason": "staff"})

    record = await gateway.activate_one(on_cancel)
    assert json.loads(record.variables) == {"order_id": "order_A", "reason": "staff"}
    await expect_status(grpc.StatusCode.NOT_FOUND, gateway.complete(by_order["order_A"].key))
    await gateway.complete(by_order["order_B"].key)  # the other instance's task was not touched
    assert await gateway.activate(on_cancel, request_timeout_ms=300) == []


def _first_then_cancelable(process_id: str, first: str, job_type: str, on_cancel: str, name: str) -> bytes:
    """Task "first", then task "work" with the message boundary event "canceled" leading to "record"."""
    body = (
        start()
        + task("first", first)
        + task("work", job_type)
        + message_boundary("canceled", "work", "msg_cancel")
        + task("record", on_cancel)
        + end()
        + end("ended_canceled")
        + flow("f0", "start", "first")
        + flow("f1", "first", "work")
        + flow("f2", "work", "end")
        + flow("f3", "canceled", "record")
        + flow("f4", "record", "ended_canceled")
    )
    return definitions(process_id, body, message("msg_cancel", name, "=order_id"))


async def test_a_buffered_message_is_correlated_when_the_subscription_opens(gateway: Gateway) -> None:
    process_id, first, job_type, on_cancel = unique("late"), unique("first"), unique("work"), unique("rec")
    name = unique("canceled")
    await gateway.deploy("p.bpmn", _first_then_cancelable(process_id, first, job_type, on_cancel, name))
    await gateway.create(process_id, {"order_id": "order_L"})
    job = await gateway.activate_one(first)
    await gateway.publish(name, "order_L", ttl_ms=60_000)  # no subscription yet: buffered
    await gateway.complete(job.key)

    assert (await gateway.activate_one(on_cancel)).elementId == "record"
    assert await gateway.activate(job_type, request_timeout_ms=300) == []


async def test_a_message_without_time_to_live_and_no_subscription_is_dropped(gateway: Gateway) -> None:
    process_id, first, job_type, on_cancel = unique("drop"), unique("first"), unique("work"), unique("rec")
    name = unique("canceled")
    await gateway.deploy("p.bpmn", _first_then_cancelable(process_id, first, job_type, on_cancel, name))
    await gateway.create(process_id, {"order_id": "order_D"})
    job = await gateway.activate_one(first)
    await gateway.publish(name, "order_D", ttl_ms=0)
    await gateway.complete(job.key)

    assert (await gateway.activate_one(job_type)).elementId == "work"
    assert await gateway.activate(on_cancel, request_timeout_ms=300) == []
