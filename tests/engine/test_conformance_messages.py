"""Conformance: message start events, correlation keys, message ids and TTLs as Zeebe defines them."""

from __future__ import annotations

import asyncio
import json
import time

import grpc
import pytest

from .support import (
    Gateway,
    Target,
    expect_status,
    message_start_process,
    unique,
)

pytestmark = pytest.mark.contract


async def _deployed(gateway: Gateway) -> tuple[str, str]:
    message_name, job_type = unique("placed"), unique("work")
    await gateway.deploy("p.bpmn", message_start_process(unique("msgstart"), message_name, job_type))
    return message_name, job_type


async def test_a_message_starts_an_instance_with_its_variables(gateway: Gateway, target: Target) -> None:
    name, job_type = await _deployed(gateway)
    await gateway.publish(name, "order_1", ttl_ms=0, variables={"order_id": "order_1"})
    job = await gateway.activate_one(job_type)
    assert json.loads(job.variables) == {"order_id": "order_1"}
    if target.engine is not None:
        detail = target.engine.inspect(f"/process-instances/{job.processInstanceKey}")
        assert detail["correlation_key"] == "order_1"


async def test_a_duplicate_message_id_is_refused_while_buffered(gateway: Gateway) -> None:
    name, job_type = await _deployed(gateway)
    await gateway.publish(name, "order_2", ttl_ms=60_000, message_id="order_2")
    error = await expect_status(
        grpc.StatusCode.ALREADY_EXISTS, gateway.publish(name, "order_2", ttl_ms=60_000, message_id="order_2")
    )
    assert "order_2" in (error.details() or "")
    assert len(await gateway.activate(job_type, request_timeout_ms=1000)) == 1
    # the same id under another correlation key is another message
    await gateway.publish(name, "order_3", ttl_ms=60_000, message_id="order_2")


async def test_no_second_instance_while_one_with_the_same_key_is_active(gateway: Gateway) -> None:
    name, job_type = await _deployed(gateway)
    await gateway.publish(name, "order_4", ttl_ms=60_000, message_id="first")
    await gateway.publish(name, "order_4", ttl_ms=60_000, message_id="second")
    await gateway.publish(name, "order_4", ttl_ms=0, message_id="dropped")

    jobs = await gateway.activate(job_type, request_timeout_ms=1000)
    assert len(jobs) == 1
    await gateway.complete(jobs[0].key)

    # when it ends, the buffered "second" message (not the one that started it) starts the next
    follow_up = await gateway.activate_one(job_type)
    assert follow_up.processInstanceKey != jobs[0].processInstanceKey
    await gateway.complete(follow_up.key)
    assert await gateway.activate(job_type, request_timeout_ms=700) == []


async def test_an_expired_message_id_is_free_again_once_the_ttl_checker_ran(
    gateway: Gateway, target: Target
) -> None:
    """Zeebe removes expired messages in a checker that runs every ttlCheckerInterval (60 s by default):
    until then the id is still refused, however long ago the TTL ended. So the id is free again no sooner
    than the TTL and no later than the TTL plus one checker interval (and some slack for a busy machine)."""
    name, ttl_ms = unique("no-subscriber"), 800

    async def publish_again() -> grpc.StatusCode:
        try:
            await gateway.publish(name, "order_5", ttl_ms=ttl_ms, message_id="m-5")
        except grpc.aio.AioRpcError as refused:
            return refused.code()
        return grpc.StatusCode.OK

    published = time.monotonic()
    await gateway.publish(name, "order_5", ttl_ms=ttl_ms, message_id="m-5")
    give_up = published + ttl_ms / 1000 + target.ttl_check_interval_s + 10
    while (outcome := await publish_again()) == grpc.StatusCode.ALREADY_EXISTS:
        assert time.monotonic() < give_up, "the expired message id was never freed"
        await asyncio.sleep(0.1)
    assert outcome == grpc.StatusCode.OK
    assert time.monotonic() - published >= ttl_ms / 1000, "the id was freed before the message's TTL ended"


async def test_a_buffered_message_starts_the_latest_version_once_the_active_instance_ends(
    gateway: Gateway,
) -> None:
    process_id, name, job_type = unique("buffered"), unique("placed"), unique("work")
    await gateway.deploy("p.bpmn", message_start_process(process_id, name, job_type, task_id="version_1"))
    await gateway.publish(name, "order_9", ttl_ms=60_000, message_id="started-v1")
    await gateway.publish(name, "order_9", ttl_ms=60_000, message_id="waits")  # key busy: stays buffered
    await gateway.deploy("p.bpmn", message_start_process(process_id, name, job_type, task_id="version_2"))

    first = await gateway.activate_one(job_type)
    assert first.elementId == "version_1"
    await gateway.complete(first.key)

    follow_up = await gateway.activate_one(job_type)
    assert (follow_up.elementId, follow_up.processDefinitionVersion) == (
        "version_2",
        first.processDefinitionVersion + 1,
    )


async def test_a_message_published_before_the_deployment_starts_no_instance(gateway: Gateway) -> None:
    message_name, job_type = unique("early"), unique("work")
    await gateway.publish(message_name, "order_6", ttl_ms=60_000, message_id="order_6")
    await gateway.deploy("p.bpmn", message_start_process(unique("late-deploy"), message_name, job_type))
    assert await gateway.activate(job_type, request_timeout_ms=700) == []
    await gateway.publish(message_name, "order_7", ttl_ms=0)
    assert len(await gateway.activate(job_type, request_timeout_ms=2000)) == 1


async def test_a_process_with_only_a_message_start_cannot_be_created_directly(gateway: Gateway) -> None:
    process_id = unique("msgonly")
    await gateway.deploy("p.bpmn", message_start_process(process_id, unique("name"), unique("work")))
    await expect_status(grpc.StatusCode.FAILED_PRECONDITION, gateway.create(process_id))


async def test_an_empty_correlation_key_starts_an_instance_every_time(gateway: Gateway) -> None:
    name, job_type = await _deployed(gateway)
    await gateway.publish(name, "", ttl_ms=0)
    await gateway.publish(name, "", ttl_ms=0)
    first, second = await gateway.activate_one(job_type), await gateway.activate_one(job_type)
    assert first.processInstanceKey != second.processInstanceKey


async def test_message_start_subscriptions_follow_the_latest_version(gateway: Gateway) -> None:
    process_id, old_name, new_name, job_type = unique("v"), unique("old"), unique("new"), unique("work")
    await gateway.deploy("p.bpmn", message_start_process(process_id, old_name, job_type))
    await gateway.deploy("p.bpmn", message_start_process(process_id, new_name, job_type))
    await gateway.publish(old_name, "order_8", ttl_ms=0)
    assert await gateway.activate(job_type, request_timeout_ms=500) == []
    await gateway.publish(new_name, "order_8", ttl_ms=0)
    job = await gateway.activate_one(job_type)
    assert job.processDefinitionVersion == 2
