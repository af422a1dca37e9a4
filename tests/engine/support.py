"""Helpers for the engine tests: build BPMN, talk raw gRPC (the engine runs as a real process, started
with localzeebe.launcher)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc as pb_grpc

from fulfillment.workflow import JobType
from localzeebe.launcher import LocalEngine

REPO_ROOT = Path(__file__).resolve().parents[2]
ZBCTL = REPO_ROOT / "tools" / "node" / "node_modules" / ".bin" / "zbctl"
# The job types the project's worker serves. The engine tests never use them: on a Zeebe shared with the
# worker tier (tests/integration), the real worker would take a job of these types that a test left.
PRODUCTION_JOB_TYPES: frozenset[str] = frozenset(JobType)


@dataclass
class Target:
    """Where the conformance suite runs: the local engine (with inspection) or a real Zeebe."""

    name: str
    address: str
    engine: LocalEngine | None
    # How often the engine removes expired messages (Zeebe's ttlCheckerInterval, 60 s unless configured).
    ttl_check_interval_s: float = 60.0

    def incident_keys(self, instance_key: int) -> list[int] | None:
        """The instance's active incident keys from the local inspection view; None against a real Zeebe,
        whose gateway API has no incident query (a test then shows the incident by behaviour only)."""
        if self.engine is None:
            return None
        incidents = self.engine.inspect(f"/process-instances/{instance_key}")["incidents"]
        return [int(incident["key"]) for incident in incidents if incident["state"] == "ACTIVE"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --- BPMN building blocks ---------------------------------------------------------------------------
def definitions(process_id: str, body: str, extra: str = "", executable: bool = True) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-{process_id}"
  targetNamespace="http://bpmn.io/schema/bpmn">
{extra}
  <bpmn:process id="{process_id}" isExecutable="{str(executable).lower()}">
{body}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def start(element_id: str = "start", message_ref: str | None = None, outputs: str = "") -> str:
    definition = f'<bpmn:messageEventDefinition messageRef="{message_ref}" />' if message_ref else ""
    extensions = (
        f"<bpmn:extensionElements><zeebe:ioMapping>{outputs}</zeebe:ioMapping></bpmn:extensionElements>"
    )
    return f'<bpmn:startEvent id="{element_id}">{extensions if outputs else ""}{definition}</bpmn:startEvent>'


def end(element_id: str = "end", error_ref: str | None = None) -> str:
    definition = f'<bpmn:errorEventDefinition errorRef="{error_ref}" />' if error_ref else ""
    return f'<bpmn:endEvent id="{element_id}">{definition}</bpmn:endEvent>'


def task(
    element_id: str,
    job_type: str,
    retries: str = "3",
    headers: dict[str, str] | None = None,
    mappings: str = "",
) -> str:
    header_xml = "".join(f'<zeebe:header key="{k}" value="{v}" />' for k, v in (headers or {}).items())
    return f"""<bpmn:serviceTask id="{element_id}"><bpmn:extensionElements>
  <zeebe:taskDefinition type="{html.escape(job_type)}" retries="{html.escape(retries)}" />
  {f"<zeebe:taskHeaders>{header_xml}</zeebe:taskHeaders>" if header_xml else ""}
  {f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>" if mappings else ""}
</bpmn:extensionElements></bpmn:serviceTask>"""


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />'
    escaped = condition.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escaped}</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>"
    )


def gateway(element_id: str, default: str | None = None) -> str:
    default_attr = f' default="{default}"' if default else ""
    return f'<bpmn:exclusiveGateway id="{element_id}"{default_attr} />'


def error_boundary(
    element_id: str, attached_to: str, error_ref: str | None = None, attributes: str = "", outputs: str = ""
) -> str:
    ref = f' errorRef="{error_ref}"' if error_ref else ""
    extensions = (
        f"<bpmn:extensionElements><zeebe:ioMapping>{outputs}</zeebe:ioMapping></bpmn:extensionElements>"
    )
    return (
        f'<bpmn:boundaryEvent id="{element_id}" attachedToRef="{attached_to}">'
        f"{extensions if outputs else ''}"
        f"<bpmn:errorEventDefinition{ref} {attributes}/></bpmn:boundaryEvent>"
    )


def timer_boundary(element_id: str, attached_to: str, duration: str, interrupting: bool = True) -> str:
    return (
        f'<bpmn:boundaryEvent id="{element_id}" attachedToRef="{attached_to}" '
        f'cancelActivity="{str(interrupting).lower()}"><bpmn:timerEventDefinition>'
        f"<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    )


def message_boundary(element_id: str, attached_to: str, message_ref: str) -> str:
    return (
        f'<bpmn:boundaryEvent id="{element_id}" attachedToRef="{attached_to}">'
        f'<bpmn:messageEventDefinition messageRef="{message_ref}" /></bpmn:boundaryEvent>'
    )


def timer_catch(element_id: str, duration: str) -> str:
    return (
        f'<bpmn:intermediateCatchEvent id="{element_id}"><bpmn:timerEventDefinition>'
        f"<bpmn:timeDuration>{html.escape(duration)}</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )


def error(error_id: str, code: str) -> str:
    return f'<bpmn:error id="{error_id}" name="{code}" errorCode="{code}" />'


def message(message_id: str, name: str, correlation_key: str | None = None) -> str:
    if correlation_key is None:
        return f'<bpmn:message id="{message_id}" name="{name}" />'
    return (
        f'<bpmn:message id="{message_id}" name="{name}"><bpmn:extensionElements>'
        f'<zeebe:subscription correlationKey="{html.escape(correlation_key)}" />'
        "</bpmn:extensionElements></bpmn:message>"
    )


def one_task_process(process_id: str, job_type: str, retries: str = "3") -> bytes:
    return definitions(
        process_id,
        start()
        + task("task", job_type, retries)
        + end()
        + flow("f1", "start", "task")
        + flow("f2", "task", "end"),
    )


def message_start_process(process_id: str, message_name: str, job_type: str, task_id: str = "work") -> bytes:
    """A message start event ("placed"), one service task, an end event."""
    body = (
        start("placed", "msg_placed")
        + task(task_id, job_type)
        + end()
        + flow("f1", "placed", task_id)
        + flow("f2", task_id, "end")
    )
    return definitions(process_id, body, message("msg_placed", message_name))


def caught_error_process(
    process_id: str, job_type: str, handler: str, boundary: str, extra: str = ""
) -> bytes:
    """Task "pay" whose boundary event "declined" (the given XML) leads to task "handle"."""
    body = (
        start()
        + task("pay", job_type)
        + boundary
        + task("handle", handler)
        + end()
        + end("failed")
        + flow("f1", "start", "pay")
        + flow("f2", "pay", "end")
        + flow("f3", "declined", "handle")
        + flow("f4", "handle", "failed")
    )
    return definitions(process_id, body, extra)


def timer_process(
    process_id: str, job_type: str, on_timer: str, interrupting: bool = True, duration: str = "PT1S"
) -> bytes:
    """Task "work" with a timer boundary event "late" (PT1S unless given) leading to task "escalate"."""
    body = (
        start()
        + task("work", job_type)
        + timer_boundary("late", "work", html.escape(duration), interrupting)
        + task("escalate", on_timer)
        + end()
        + end("escalated")
        + flow("f1", "start", "work")
        + flow("f2", "work", "end")
        + flow("f3", "late", "escalate")
        + flow("f4", "escalate", "escalated")
    )
    return definitions(process_id, body)


# --- raw gRPC helpers --------------------------------------------------------------------------------
class Gateway:
    """The gateway API over raw generated stubs, so tests see exact status codes."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.aio.insecure_channel(address)
        self.stub = pb_grpc.GatewayStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def deploy(self, name: str, content: bytes) -> Any:
        request = pb.DeployResourceRequest(resources=[pb.Resource(name=name, content=content)])
        return await self.stub.DeployResource(request, timeout=10)

    async def create(self, process_id: str, variables: dict[str, Any] | None = None) -> int:
        request = pb.CreateProcessInstanceRequest(
            bpmnProcessId=process_id, version=-1, variables=json.dumps(variables or {})
        )
        response = await self.stub.CreateProcessInstance(request, timeout=10)
        return int(response.processInstanceKey)

    async def create_with_result(
        self, process_id: str, variables: dict[str, Any] | None = None, timeout_ms: int = 5000
    ) -> dict[str, Any]:
        inner = pb.CreateProcessInstanceRequest(
            bpmnProcessId=process_id, version=-1, variables=json.dumps(variables or {})
        )
        request = pb.CreateProcessInstanceWithResultRequest(request=inner, requestTimeout=timeout_ms)
        response = await self.stub.CreateProcessInstanceWithResult(request, timeout=timeout_ms / 1000 + 5)
        result: dict[str, Any] = json.loads(response.variables)
        return result

    async def activate(
        self, job_type: str, max_jobs: int = 10, timeout_ms: int = 10_000, request_timeout_ms: int = 2000
    ) -> list[Any]:
        assert job_type not in PRODUCTION_JOB_TYPES, (
            f"engine tests use job types of their own, not the worker's {job_type!r}"
        )
        request = pb.ActivateJobsRequest(
            type=job_type,
            worker="conformance",
            timeout=timeout_ms,
            maxJobsToActivate=max_jobs,
            requestTimeout=request_timeout_ms,
        )
        jobs: list[Any] = []
        async for response in self.stub.ActivateJobs(request, timeout=request_timeout_ms / 1000 + 10):
            jobs.extend(response.jobs)
        return jobs

    async def activate_one(self, job_type: str, timeout_ms: int = 10_000, wait_ms: int = 5000) -> Any:
        give_up = time.monotonic() + wait_ms / 1000
        while time.monotonic() < give_up:
            jobs = await self.activate(job_type, 1, timeout_ms, request_timeout_ms=wait_ms)
            if jobs:
                return jobs[0]
        raise AssertionError(f"no job of type {job_type!r} within {wait_ms} ms")

    async def complete(self, job_key: int, variables: dict[str, Any] | None = None) -> None:
        request = pb.CompleteJobRequest(jobKey=job_key, variables=json.dumps(variables or {}))
        await self.stub.CompleteJob(request, timeout=10)

    async def fail(self, job_key: int, retries: int, message: str = "failed", backoff_ms: int = 0) -> None:
        request = pb.FailJobRequest(
            jobKey=job_key, retries=retries, errorMessage=message, retryBackOff=backoff_ms
        )
        await self.stub.FailJob(request, timeout=10)

    async def throw_error(
        self, job_key: int, code: str, message: str = "", variables: dict[str, Any] | None = None
    ) -> None:
        request = pb.ThrowErrorRequest(
            jobKey=job_key, errorCode=code, errorMessage=message, variables=json.dumps(variables or {})
        )
        await self.stub.ThrowError(request, timeout=10)

    async def publish(
        self,
        name: str,
        correlation_key: str,
        ttl_ms: int = 0,
        message_id: str = "",
        variables: dict[str, Any] | None = None,
    ) -> int:
        request = pb.PublishMessageRequest(
            name=name,
            correlationKey=correlation_key,
            timeToLive=ttl_ms,
            messageId=message_id,
            variables=json.dumps(variables or {}),
        )
        response = await self.stub.PublishMessage(request, timeout=10)
        return int(response.key)


async def expect_status(code: grpc.StatusCode, call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, (
        f"expected {code}, got {caught.value.code()}: {caught.value.details()}"
    )
    return caught.value


async def eventually(check: Any, timeout_s: float = 5.0, interval_s: float = 0.05) -> Any:
    """Poll a synchronous check until it returns a truthy value."""
    give_up = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > give_up:
            return value
        await asyncio.sleep(interval_s)


class LeftoverCheck:
    """Finds the jobs of production types that became activatable after the check started, so a session
    on a shared engine can show it left none (and cancel their instances, so the worker tier does not run
    them). Looking means activating: each job found is locked for `lock_ms` and then comes back by itself,
    so the jobs that were there before (someone else's) are only delayed that long."""

    def __init__(self, address: str, lock_ms: int = 1000) -> None:
        self.address = address
        self.lock_ms = lock_ms
        self.before: set[int] = set()

    async def start(self) -> None:
        self.before = {job.key for job in await self._activatable()}

    async def left(self) -> list[Any]:
        return [job for job in await self._activatable() if job.key not in self.before]

    async def cancel_instances(self, jobs: list[Any]) -> None:
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = pb_grpc.GatewayStub(channel)
            for instance_key in {job.processInstanceKey for job in jobs}:
                with contextlib.suppress(grpc.aio.AioRpcError):  # already ended: nothing left to cancel
                    request = pb.CancelProcessInstanceRequest(processInstanceKey=instance_key)
                    await stub.CancelProcessInstance(request, timeout=10)

    async def _activatable(self) -> list[Any]:
        jobs: list[Any] = []
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = pb_grpc.GatewayStub(channel)
            for job_type in sorted(PRODUCTION_JOB_TYPES):
                request = pb.ActivateJobsRequest(
                    type=job_type,
                    worker="engine-tests-leftover-check",
                    timeout=self.lock_ms,
                    maxJobsToActivate=1000,
                    requestTimeout=-1,  # no long polling: what is activatable now
                )
                async for response in stub.ActivateJobs(request, timeout=30):
                    jobs.extend(response.jobs)
        return jobs


def describe_jobs(jobs: list[Any]) -> str:
    return "; ".join(
        f"{job.type} at {job.bpmnProcessId}/{job.elementId} (instance {job.processInstanceKey})"
        for job in jobs
    )
