"""Conformance: deployment, instances and Zeebe's job guarantees, over the gateway API only."""

from __future__ import annotations

import asyncio
import json
import time

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb

from .support import (
    Gateway,
    Target,
    definitions,
    end,
    expect_status,
    flow,
    one_task_process,
    start,
    unique,
)
from .support import task as service_task

pytestmark = pytest.mark.contract


async def test_deploying_the_same_resource_again_returns_the_existing_version(gateway: Gateway) -> None:
    process_id = unique("dedup")
    first = (await gateway.deploy("p.bpmn", one_task_process(process_id, "a"))).deployments[0].process
    again = (await gateway.deploy("p.bpmn", one_task_process(process_id, "a"))).deployments[0].process
    changed = (await gateway.deploy("p.bpmn", one_task_process(process_id, "b"))).deployments[0].process

    assert (again.processDefinitionKey, again.version) == (first.processDefinitionKey, first.version)
    assert changed.version == first.version + 1
    assert changed.processDefinitionKey != first.processDefinitionKey


async def test_the_same_content_under_another_resource_name_is_a_new_version(gateway: Gateway) -> None:
    process_id = unique("renamed")
    model = one_task_process(process_id, "a")
    first = (await gateway.deploy("first.bpmn", model)).deployments[0].process
    again = (await gateway.deploy("first.bpmn", model)).deployments[0].process
    renamed = (await gateway.deploy("renamed.bpmn", model)).deployments[0].process

    assert again.version == first.version
    assert (renamed.version, renamed.resourceName) == (first.version + 1, "renamed.bpmn")


async def test_instance_runs_through_a_service_task_with_headers_and_variables(gateway: Gateway) -> None:
    process_id, job_type = unique("simple"), unique("job")
    body = (
        start()
        + service_task("task", job_type, headers={"channel": "email"})
        + end()
        + flow("f1", "start", "task")
        + flow("f2", "task", "end")
    )
    await gateway.deploy("p.bpmn", definitions(process_id, body))
    instance_key = await gateway.create(process_id, {"order": {"id": "order_1", "total": 10}})

    job = await gateway.activate_one(job_type)
    assert job.processInstanceKey == instance_key
    assert job.bpmnProcessId == process_id
    assert job.elementId == "task"
    assert job.retries == 3
    assert json.loads(job.customHeaders) == {"channel": "email"}
    assert json.loads(job.variables) == {"order": {"id": "order_1", "total": 10}}
    await gateway.complete(job.key, {"paid": True})
    await expect_status(grpc.StatusCode.NOT_FOUND, gateway.complete(job.key))


async def test_create_with_result_returns_the_final_variables(gateway: Gateway) -> None:
    process_id, job_type = unique("result"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))

    async def work() -> None:
        job = await gateway.activate_one(job_type)
        await gateway.complete(job.key, {"doubled": json.loads(job.variables)["n"] * 2})

    worker = asyncio.create_task(work())
    result = await gateway.create_with_result(process_id, {"n": 21})
    await worker
    assert result == {"n": 21, "doubled": 42}


async def test_retries_may_be_a_feel_expression(gateway: Gateway) -> None:
    process_id, job_type = unique("retries"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type, retries="=attempts + 1"))
    await gateway.create(process_id, {"attempts": 4})
    job = await gateway.activate_one(job_type)
    assert job.retries == 5


async def test_the_job_type_may_be_a_feel_expression(gateway: Gateway) -> None:
    process_id, job_type = unique("dyntype"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, '=kind + "-worker"'))
    await gateway.create(process_id, {"kind": job_type})
    job = await gateway.activate_one(f"{job_type}-worker")
    assert job.type == f"{job_type}-worker"


async def test_a_timed_out_job_is_handed_out_again_without_using_a_retry(gateway: Gateway) -> None:
    process_id, job_type = unique("timeout"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    await gateway.create(process_id)

    first = await gateway.activate_one(job_type, timeout_ms=1000)
    assert await gateway.activate(job_type, request_timeout_ms=-1) == []
    second = await gateway.activate_one(job_type, timeout_ms=10_000, wait_ms=4000)

    assert second.key == first.key
    assert second.retries == first.retries == 3
    await gateway.complete(second.key)


async def test_long_polling_returns_as_soon_as_a_job_is_available(gateway: Gateway) -> None:
    process_id, job_type = unique("poll"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    began = time.monotonic()
    poll = asyncio.create_task(gateway.activate(job_type, request_timeout_ms=8000))
    await asyncio.sleep(0.3)
    await gateway.create(process_id)
    jobs = await poll
    assert len(jobs) == 1
    assert time.monotonic() - began < 4


async def test_long_polling_honours_the_request_timeout(gateway: Gateway) -> None:
    began = time.monotonic()
    jobs = await gateway.activate(unique("nothing"), request_timeout_ms=700)
    elapsed = time.monotonic() - began
    assert jobs == []
    assert 0.6 < elapsed < 5


async def test_fail_job_with_retries_left_and_backoff_hands_the_job_out_after_the_backoff(
    gateway: Gateway,
) -> None:
    process_id, job_type = unique("backoff"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    await gateway.create(process_id)
    job = await gateway.activate_one(job_type)

    await gateway.fail(job.key, retries=2, message="temporary", backoff_ms=1000)
    assert await gateway.activate(job_type, request_timeout_ms=300) == []
    again = await gateway.activate_one(job_type, wait_ms=4000)
    assert (again.key, again.retries) == (job.key, 2)


async def test_fail_job_without_retries_raises_an_incident_that_retries_and_resolve_clear(
    gateway: Gateway, target: Target
) -> None:
    process_id, job_type = unique("incident"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    instance_key = await gateway.create(process_id)
    job = await gateway.activate_one(job_type)

    await gateway.fail(job.key, retries=0, message="card declined")
    # The incident, by behaviour: the failed job is not activatable and cannot be completed.
    assert await gateway.activate(job_type, request_timeout_ms=500) == []
    await expect_status(grpc.StatusCode.FAILED_PRECONDITION, gateway.complete(job.key))
    if target.engine is not None:
        incidents = target.engine.inspect(f"/process-instances/{instance_key}")["incidents"]
        assert [(i["error_type"], i["error_message"]) for i in incidents] == [
            ("JOB_NO_RETRIES", "card declined")
        ]

    keys = target.incident_keys(instance_key)
    if keys is not None:  # the gateway API has no incident query: the key is known locally only
        resolve = pb.ResolveIncidentRequest(incidentKey=keys[0])
        # Resolving while the job has no retries: 8.5.1-8.5.4 answer NOT_FOUND, later FAILED_PRECONDITION.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await gateway.stub.ResolveIncident(resolve)
        assert refused.value.code() in {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION}
    await gateway.stub.UpdateJobRetries(pb.UpdateJobRetriesRequest(jobKey=job.key, retries=1))
    assert await gateway.activate(job_type, request_timeout_ms=300) == [], "retries alone do not resolve it"
    if keys is None:
        return
    await gateway.stub.ResolveIncident(resolve)
    again = await gateway.activate_one(job_type)
    assert (again.key, again.retries) == (job.key, 1)
    await gateway.complete(again.key)


async def test_update_job_timeout_extends_the_deadline(gateway: Gateway) -> None:
    process_id, job_type = unique("extend"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    await gateway.create(process_id)
    job = await gateway.activate_one(job_type, timeout_ms=1000)
    await gateway.stub.UpdateJobTimeout(pb.UpdateJobTimeoutRequest(jobKey=job.key, timeout=10_000))
    await asyncio.sleep(1.5)
    assert await gateway.activate(job_type, request_timeout_ms=-1) == []
    await gateway.complete(job.key)


async def test_cancel_instance_cancels_its_job(gateway: Gateway) -> None:
    process_id, job_type = unique("cancel"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    instance_key = await gateway.create(process_id)
    job = await gateway.activate_one(job_type)

    await gateway.stub.CancelProcessInstance(pb.CancelProcessInstanceRequest(processInstanceKey=instance_key))
    await expect_status(grpc.StatusCode.NOT_FOUND, gateway.complete(job.key))
    await expect_status(
        grpc.StatusCode.NOT_FOUND,
        gateway.stub.CancelProcessInstance(pb.CancelProcessInstanceRequest(processInstanceKey=instance_key)),
    )


async def test_set_variables_are_seen_by_the_next_activation(gateway: Gateway) -> None:
    process_id, job_type = unique("setvars"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    instance_key = await gateway.create(process_id, {"a": 1})
    job = await gateway.activate_one(job_type, timeout_ms=1000)
    await gateway.stub.SetVariables(
        pb.SetVariablesRequest(elementInstanceKey=instance_key, variables=json.dumps({"b": 2}))
    )
    await gateway.fail(job.key, retries=2)
    again = await gateway.activate_one(job_type)
    assert json.loads(again.variables) == {"a": 1, "b": 2}


async def test_gateway_error_codes(gateway: Gateway) -> None:
    await expect_status(grpc.StatusCode.NOT_FOUND, gateway.complete(2251799813685248 + 999_999_999))
    await expect_status(grpc.StatusCode.NOT_FOUND, gateway.create(unique("missing")))
    process_id = unique("codes")
    await gateway.deploy("p.bpmn", one_task_process(process_id, unique("job")))
    bad_variables = pb.CreateProcessInstanceRequest(bpmnProcessId=process_id, version=-1, variables="[1, 2]")
    await expect_status(grpc.StatusCode.INVALID_ARGUMENT, gateway.stub.CreateProcessInstance(bad_variables))
    await expect_status(grpc.StatusCode.INVALID_ARGUMENT, gateway.deploy("broken.bpmn", b"<definitions"))


def _two_tasks(process_id: str, first: str, second: str) -> bytes:
    body = (
        start()
        + service_task("a", first)
        + service_task("b", second)
        + end()
        + flow("f1", "start", "a")
        + flow("f2", "a", "b")
        + flow("f3", "b", "end")
    )
    return definitions(process_id, body)


async def test_fail_job_and_local_set_variables_stay_on_the_task(gateway: Gateway) -> None:
    process_id, first, second = unique("local"), unique("first"), unique("second")
    await gateway.deploy("p.bpmn", _two_tasks(process_id, first, second))
    await gateway.create(process_id, {"order_id": "order_1"})
    job = await gateway.activate_one(first)

    def set_variables(variables: dict[str, object], local: bool) -> pb.SetVariablesRequest:
        return pb.SetVariablesRequest(
            elementInstanceKey=job.elementInstanceKey, variables=json.dumps(variables), local=local
        )

    await gateway.stub.SetVariables(set_variables({"scratch": 1}, local=True))
    await gateway.stub.SetVariables(set_variables({"kept": 2}, local=False))
    failed = pb.FailJobRequest(jobKey=job.key, retries=2, errorMessage="retry", variables='{"attempt": 1}')
    await gateway.stub.FailJob(failed)
    again = await gateway.activate_one(first)
    assert json.loads(again.variables) == {"order_id": "order_1", "scratch": 1, "kept": 2, "attempt": 1}
    await gateway.complete(again.key)

    after = await gateway.activate_one(second)
    assert json.loads(after.variables) == {"order_id": "order_1", "kept": 2}


async def test_a_timed_out_job_not_yet_handed_out_again_can_still_be_completed(gateway: Gateway) -> None:
    process_id, first, second = unique("late"), unique("first"), unique("second")
    await gateway.deploy("p.bpmn", _two_tasks(process_id, first, second))
    await gateway.create(process_id)
    job = await gateway.activate_one(first, timeout_ms=300)
    await asyncio.sleep(1.0)  # its deadline passes; nobody activates it again
    await gateway.complete(job.key, {"late": True})
    assert json.loads((await gateway.activate_one(second)).variables) == {"late": True}


async def test_resolving_an_uncaught_error_hands_the_job_out_again(gateway: Gateway, target: Target) -> None:
    process_id, job_type = unique("uncaught"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    instance_key = await gateway.create(process_id)
    job = await gateway.activate_one(job_type)
    await gateway.throw_error(job.key, "NOBODY_CATCHES", "unexpected")
    assert await gateway.activate(job_type, request_timeout_ms=500) == []
    keys = target.incident_keys(instance_key)
    if keys is None:  # the gateway API has no incident query: the key is known locally only
        return

    await gateway.stub.ResolveIncident(pb.ResolveIncidentRequest(incidentKey=keys[0]))
    again = await gateway.activate_one(job_type)
    assert (again.key, again.retries) == (job.key, 3)


async def test_update_job_retries_below_one_is_an_invalid_argument(gateway: Gateway) -> None:
    process_id, job_type = unique("retries"), unique("job")
    await gateway.deploy("p.bpmn", one_task_process(process_id, job_type))
    await gateway.create(process_id)
    job = await gateway.activate_one(job_type)
    await expect_status(
        grpc.StatusCode.INVALID_ARGUMENT,
        gateway.stub.UpdateJobRetries(pb.UpdateJobRetriesRequest(jobKey=job.key, retries=0)),
    )
