"""The Zeebe gateway gRPC service: a thin layer turning requests into engine commands.

Built on the gateway stubs that pyzeebe ships (pyzeebe.proto), so no extra protocol package is needed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, NoReturn, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc as pb_grpc

from localzeebe import errors
from localzeebe.backpressure import BackPressure
from localzeebe.engine import Engine
from localzeebe.state import Job, ProcessInstance, Variables

log = logging.getLogger("localzeebe")

GATEWAY_SERVICE = "gateway_protocol.Gateway"
GATEWAY_VERSION = "8.4.0"
DEFAULT_LONG_POLL_S = 10.0
_STATUS = {
    errors.Rejection.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    errors.Rejection.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    errors.Rejection.INVALID_STATE: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Rejection.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    errors.Rejection.DEADLINE_EXCEEDED: grpc.StatusCode.DEADLINE_EXCEEDED,
}
Response = TypeVar("Response")


def parse_variables(document: str, field: str = "variables") -> Variables:
    """Zeebe variables are a JSON object; an empty string means none."""
    if not document.strip():
        return {}
    try:
        value = json.loads(document)
    except ValueError as error:
        raise errors.invalid_argument(f"Expected {field} to be a JSON document, but: {error}") from None
    if not isinstance(value, dict):
        raise errors.invalid_argument(f"Expected {field} to be a JSON object, but got {document[:60]!r}")
    return value


async def _abort(context: grpc.aio.ServicerContext, rejection: errors.CommandRejected) -> NoReturn:
    await context.abort(_STATUS[rejection.rejection], rejection.message)
    raise AssertionError("unreachable: abort raises")


async def _call(context: grpc.aio.ServicerContext, command: Callable[[], Response]) -> Response:
    try:
        return command()
    except errors.CommandRejected as rejection:
        await _abort(context, rejection)


class Gateway(pb_grpc.GatewayServicer):
    def __init__(
        self, engine: Engine, address: tuple[str, int], back_pressure: BackPressure | None = None
    ) -> None:
        self.engine = engine
        self.address = address
        self.back_pressure = back_pressure or BackPressure(0.0)

    async def _admit(self, context: grpc.aio.ServicerContext) -> None:
        """Refuses the command with RESOURCE_EXHAUSTED when back-pressure says so (the command has no
        effect, so the client may send it again)."""
        if self.back_pressure.refuses_next():
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "Expected to handle the command, but the partition is under back-pressure; try again later",
            )

    async def _unimplemented(self, name: str, context: grpc.aio.ServicerContext) -> Any:
        message = f"{name} is not supported by localzeebe (a local development engine)"
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

    async def StreamActivatedJobs(
        self, request: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        await self._unimplemented("StreamActivatedJobs", context)
        yield pb.ActivatedJob()  # pragma: no cover - abort raises before this

    async def EvaluateDecision(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._unimplemented("EvaluateDecision", context)

    async def BroadcastSignal(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._unimplemented("BroadcastSignal", context)

    async def DeleteResource(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._unimplemented("DeleteResource", context)

    async def ModifyProcessInstance(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._unimplemented("ModifyProcessInstance", context)

    async def MigrateProcessInstance(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._unimplemented("MigrateProcessInstance", context)

    async def Topology(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        partition = pb.Partition(partitionId=1, role=pb.Partition.LEADER, health=pb.Partition.HEALTHY)
        broker = pb.BrokerInfo(
            nodeId=0,
            host=self.address[0],
            port=self.address[1],
            partitions=[partition],
            version=GATEWAY_VERSION,
        )
        return pb.TopologyResponse(
            brokers=[broker],
            clusterSize=1,
            partitionsCount=1,
            replicationFactor=1,
            gatewayVersion=GATEWAY_VERSION,
        )

    async def DeployResource(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        resources = [(resource.name, resource.content) for resource in request.resources]
        key, definitions = await _call(context, lambda: self.engine.deploy(resources))
        deployments = [
            pb.Deployment(
                process=pb.ProcessMetadata(
                    bpmnProcessId=d.bpmn_process_id,
                    version=d.version,
                    processDefinitionKey=d.key,
                    resourceName=d.resource_name,
                    tenantId="<default>",
                )
            )
            for d in definitions
        ]
        return pb.DeployResourceResponse(key=key, deployments=deployments, tenantId="<default>")

    async def DeployProcess(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        resources = [(process.name, process.definition) for process in request.processes]
        key, definitions = await _call(context, lambda: self.engine.deploy(resources))
        processes = [
            pb.ProcessMetadata(
                bpmnProcessId=d.bpmn_process_id,
                version=d.version,
                processDefinitionKey=d.key,
                resourceName=d.resource_name,
            )
            for d in definitions
        ]
        return pb.DeployProcessResponse(key=key, processes=processes)

    def _create(self, request: Any) -> ProcessInstance:
        if request.startInstructions:
            raise errors.invalid_argument("start instructions are not supported by localzeebe")
        variables = parse_variables(request.variables)
        definition = self.engine.find_definition(
            request.bpmnProcessId, request.version, request.processDefinitionKey
        )
        return self.engine.create_instance(definition, variables)

    async def CreateProcessInstance(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._admit(context)
        instance = await _call(context, lambda: self._create(request))
        return pb.CreateProcessInstanceResponse(
            processDefinitionKey=instance.process_definition_key,
            bpmnProcessId=instance.bpmn_process_id,
            version=instance.version,
            processInstanceKey=instance.key,
            tenantId="<default>",
        )

    async def CreateProcessInstanceWithResult(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._admit(context)
        instance = await _call(context, lambda: self._create(request.request))
        timeout = request.requestTimeout / 1000 if request.requestTimeout > 0 else context.time_remaining()
        try:
            finished = await self.engine.wait_for_result(instance, timeout)
        except TimeoutError:
            await _abort(
                context,
                errors.CommandRejected(
                    errors.Rejection.DEADLINE_EXCEEDED,
                    f"process instance '{instance.key}' did not complete within the request timeout",
                ),
            )
        if finished.state != "COMPLETED":
            await _abort(context, errors.invalid_state(f"process instance '{instance.key}' was terminated"))
        wanted = list(request.fetchVariables)
        variables = {k: v for k, v in finished.variables.items() if not wanted or k in wanted}
        return pb.CreateProcessInstanceWithResultResponse(
            processDefinitionKey=finished.process_definition_key,
            bpmnProcessId=finished.bpmn_process_id,
            version=finished.version,
            processInstanceKey=finished.key,
            variables=json.dumps(variables),
            tenantId="<default>",
        )

    async def CancelProcessInstance(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _call(context, lambda: self.engine.cancel_instance(request.processInstanceKey))
        return pb.CancelProcessInstanceResponse()

    async def PublishMessage(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._admit(context)

        def publish() -> int:
            variables = parse_variables(request.variables)
            return self.engine.publish_message(
                request.name, request.correlationKey, request.timeToLive, request.messageId, variables
            )

        key = await _call(context, publish)
        return pb.PublishMessageResponse(key=key, tenantId="<default>")

    def _activated(self, job: Job, fetch: list[str]) -> Any:
        return pb.ActivatedJob(
            key=job.key,
            type=job.type,
            processInstanceKey=job.process_instance_key,
            bpmnProcessId=job.bpmn_process_id,
            processDefinitionVersion=job.version,
            processDefinitionKey=job.process_definition_key,
            elementId=job.element_id,
            elementInstanceKey=job.element_instance_key,
            customHeaders=job.custom_headers,
            worker=job.worker,
            retries=job.retries,
            deadline=job.deadline,
            variables=json.dumps(self.engine.job_variables(job, fetch)),
            tenantId="<default>",
        )

    # A coroutine writing with context.write, not a generator: a failed write must be seen to return the jobs.
    async def ActivateJobs(  # type: ignore[override]
        self, request: Any, context: grpc.aio.ServicerContext
    ) -> None:
        if not request.type or request.maxJobsToActivate < 1 or request.timeout < 1:
            await _abort(
                context,
                errors.invalid_argument(
                    "Expected a job type, maxJobsToActivate > 0 and timeout > 0, but got "
                    f"type={request.type!r} maxJobsToActivate={request.maxJobsToActivate} "
                    f"timeout={request.timeout}"
                ),
            )
        await self._admit(context)
        fetch = list(request.fetchVariable)
        long_poll = request.requestTimeout >= 0
        wait_s = request.requestTimeout / 1000 if request.requestTimeout > 0 else DEFAULT_LONG_POLL_S
        loop = asyncio.get_running_loop()
        give_up = loop.time() + wait_s
        while True:
            jobs = self.engine.activate_jobs(
                request.type, request.worker, request.timeout, request.maxJobsToActivate
            )
            remaining = give_up - loop.time()
            if jobs or not long_poll or remaining <= 0:
                break
            await self.engine.wait_for_jobs(request.type, remaining)
        if jobs:
            await self._deliver(context, jobs, fetch)

    async def _deliver(self, context: grpc.aio.ServicerContext, jobs: list[Job], fetch: list[str]) -> None:
        """Sends activated jobs; when they cannot be sent (the client went away or cancelled), they are
        activatable again at once with unchanged retries, as Zeebe's gateway fails them back, instead of
        staying locked until their timeout."""
        try:
            await context.write(pb.ActivateJobsResponse(jobs=[self._activated(job, fetch) for job in jobs]))
        except BaseException:
            self.engine.return_undelivered(jobs)
            raise

    async def CompleteJob(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _call(
            context, lambda: self.engine.complete_job(request.jobKey, parse_variables(request.variables))
        )
        return pb.CompleteJobResponse()

    async def FailJob(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _call(
            context,
            lambda: self.engine.fail_job(
                request.jobKey,
                request.retries,
                request.errorMessage,
                request.retryBackOff,
                parse_variables(request.variables),
            ),
        )
        return pb.FailJobResponse()

    async def ThrowError(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._admit(context)
        await _call(
            context,
            lambda: self.engine.throw_error(
                request.jobKey, request.errorCode, request.errorMessage, parse_variables(request.variables)
            ),
        )
        return pb.ThrowErrorResponse()

    async def UpdateJobRetries(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._admit(context)
        await _call(context, lambda: self.engine.update_job_retries(request.jobKey, request.retries))
        return pb.UpdateJobRetriesResponse()

    async def UpdateJobTimeout(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._admit(context)
        await _call(context, lambda: self.engine.update_job_timeout(request.jobKey, request.timeout))
        return pb.UpdateJobTimeoutResponse()

    async def ResolveIncident(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._admit(context)
        await _call(context, lambda: self.engine.resolve_incident(request.incidentKey))
        return pb.ResolveIncidentResponse()

    async def SetVariables(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._admit(context)
        key = await _call(
            context,
            lambda: self.engine.set_variables(
                request.elementInstanceKey, parse_variables(request.variables), request.local
            ),
        )
        return pb.SetVariablesResponse(key=key)


async def start_grpc(
    engine: Engine, host: str, port: int, back_pressure: BackPressure | None = None
) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as error:
        raise OSError(f"cannot listen for gRPC on {host}:{port}: {error}") from None
    pb_grpc.add_GatewayServicer_to_server(Gateway(engine, (host, bound), back_pressure), server)
    health_servicer = health.aio.HealthServicer()
    await health_servicer.set(GATEWAY_SERVICE, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    await server.start()
    return server, bound
