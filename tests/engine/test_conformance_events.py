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
from typing import Any

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


# --- a message is correlated at most once per process ------------------------------------------------
# Zeebe's MessagePublishProcessor correlates a published message to the open subscriptions "only once per
# process" (by BPMN process id) and starts no instance of a process it already reached; a subscription
# opened later takes a buffered message only if it is not yet correlated to that process
# (MessageCorrelator#correlateMessage, MessageState#existMessageCorrelation). Docs: messages, "Message
# cardinality": "A message is correlated only once to a process (based on the BPMN process ID), across all
# versions of this process."


async def _interrupted(gateway: Gateway, work_job: Any) -> bool:
    """Completes the job; False if it completed, True if its task was interrupted (NOT_FOUND)."""
    code = grpc.StatusCode.OK
    try:
        await gateway.complete(work_job.key)
    except grpc.aio.AioRpcError as refused:
        code = refused.code()
    assert code in {grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND}, code
    return code is grpc.StatusCode.NOT_FOUND


async def test_a_message_reaches_one_waiting_instance_of_each_process(gateway: Gateway) -> None:
    name, p_id, q_id = unique("canceled"), unique("p"), unique("q")
    p_work, p_record, q_work, q_record = (unique(kind) for kind in ["p-work", "p-rec", "q-work", "q-rec"])
    await gateway.deploy("p.bpmn", _cancelable(p_id, p_work, p_record, name))
    await gateway.deploy("q.bpmn", _cancelable(q_id, q_work, q_record, name))
    for process_id in [p_id, p_id, q_id]:
        await gateway.create(process_id, {"order_id": "order_O"})
    p_jobs = [await gateway.activate_one(p_work) for _ in range(2)]
    q_job = await gateway.activate_one(q_work)

    await gateway.publish(name, "order_O")

    p_recorded = await gateway.activate_one(p_record)
    assert await gateway.activate(p_record, request_timeout_ms=500) == [], "one instance of P only"
    assert (await gateway.activate_one(q_record)).elementId == "record", "and one of the other process"
    interrupted = {job.processInstanceKey: await _interrupted(gateway, job) for job in p_jobs}
    assert interrupted == {
        job.processInstanceKey: job.processInstanceKey == p_recorded.processInstanceKey for job in p_jobs
    }
    assert await _interrupted(gateway, q_job)


async def test_a_buffered_message_reaches_a_later_subscription_only_of_another_process(
    gateway: Gateway,
) -> None:
    name, p_id, q_id = unique("canceled"), unique("p"), unique("q")
    p_first, p_work, p_record = unique("p-first"), unique("p-work"), unique("p-rec")
    q_first, q_work, q_record = unique("q-first"), unique("q-work"), unique("q-rec")
    await gateway.deploy("p.bpmn", _first_then_cancelable(p_id, p_first, p_work, p_record, name))
    await gateway.deploy("q.bpmn", _first_then_cancelable(q_id, q_first, q_work, q_record, name))

    async def pass_first(process_id: str, first: str) -> int:
        """An instance of the process past its first task: "work" opens its subscription."""
        instance_key = await gateway.create(process_id, {"order_id": "order_B"})
        await gateway.complete((await gateway.activate_one(first)).key)
        return instance_key

    earlier = await pass_first(p_id, p_first)
    await gateway.activate_one(p_work)
    await gateway.publish(name, "order_B", ttl_ms=60_000)
    assert (await gateway.activate_one(p_record)).processInstanceKey == earlier

    await pass_first(p_id, p_first)  # opens its subscription while the message is buffered
    later = await gateway.activate_one(p_work)
    assert await gateway.activate(p_record, request_timeout_ms=500) == []
    assert not await _interrupted(gateway, later), "the message already reached this process"

    other = await pass_first(q_id, q_first)  # still buffered for every other process
    assert (await gateway.activate_one(q_record)).processInstanceKey == other


def _started_by_what_it_waits_for(process_id: str, first: str, work: str, on_cancel: str, name: str) -> bytes:
    """Message start event "placed" (message name) or a none start, then "first", then "work" with a
    message boundary event for the same message name (correlation key =order_id) leading to "record"."""
    body = (
        start("placed", "msg")
        + start()
        + task("first", first)
        + task("work", work)
        + message_boundary("canceled", "work", "msg")
        + task("record", on_cancel)
        + end()
        + end("ended_canceled")
        + flow("f0", "placed", "first")
        + flow("f0b", "start", "first")
        + flow("f1", "first", "work")
        + flow("f2", "work", "end")
        + flow("f3", "canceled", "record")
        + flow("f4", "record", "ended_canceled")
    )
    return definitions(process_id, body, message("msg", name, "=order_id"))


async def test_a_message_that_started_an_instance_reaches_no_catch_event_of_that_process(
    gateway: Gateway,
) -> None:
    process_id, name = unique("started"), unique("placed")
    first, work, on_cancel = unique("first"), unique("work"), unique("rec")
    await gateway.deploy("p.bpmn", _started_by_what_it_waits_for(process_id, first, work, on_cancel, name))
    await gateway.publish(name, "order_S", ttl_ms=60_000, variables={"order_id": "order_S"})
    await gateway.complete((await gateway.activate_one(first)).key)

    job = await gateway.activate_one(work)  # its subscription opens while the message is buffered
    assert await gateway.activate(on_cancel, request_timeout_ms=500) == []
    assert not await _interrupted(gateway, job)


async def test_a_message_that_reached_a_catch_event_starts_no_instance_of_that_process(
    gateway: Gateway,
) -> None:
    process_id, name = unique("caught"), unique("placed")
    first, work, on_cancel = unique("first"), unique("work"), unique("rec")
    await gateway.deploy("p.bpmn", _started_by_what_it_waits_for(process_id, first, work, on_cancel, name))
    await gateway.create(process_id, {"order_id": "order_C"})  # through the none start event
    await gateway.complete((await gateway.activate_one(first)).key)
    job = await gateway.activate_one(work)

    await gateway.publish(name, "order_C", ttl_ms=60_000, variables={"order_id": "order_C"})

    assert (await gateway.activate_one(on_cancel)).processInstanceKey == job.processInstanceKey
    assert await gateway.activate(first, request_timeout_ms=500) == [], "no instance started"
