"""The engine: commands (deploy, create, publish, job commands, incidents) and BPMN token flow.

One asyncio event loop owns all state, so no locks are needed. Commands run synchronously;
time-based work (job timeouts, retry backoff, timers, message TTL) is scheduled on the loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from localzeebe import errors
from localzeebe.deployment import DeploymentError, parse_resource
from localzeebe.feel import Value
from localzeebe.job import JobQueue
from localzeebe.message import MessageBuffer
from localzeebe.model import Element, Process, SequenceFlow
from localzeebe.state import (
    PARTITION_ONE,
    ElementInstance,
    Incident,
    Job,
    Message,
    ProcessDefinition,
    ProcessInstance,
    Variables,
    now_ms,
)
from localzeebe.store import Store
from localzeebe.timer import DurationError, parse_duration_ms
from localzeebe.variables import MappingError, apply_mappings, propagate, visible

log = logging.getLogger("localzeebe")

LIVE_JOB_STATES = {"ACTIVATABLE", "ACTIVATED", "FAILED", "ERROR_THROWN"}


class ElementFailure(Exception):
    """An element cannot proceed; it stays where it is with an incident of this type."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class Engine:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store
        self.definitions: dict[int, ProcessDefinition] = {}
        self.models: dict[int, Process] = {}
        self.latest: dict[str, int] = {}
        self.instances: dict[int, ProcessInstance] = {}
        self.jobs: dict[int, Job] = {}
        self.incidents: dict[int, Incident] = {}
        self.message_buffer = MessageBuffer()
        self._key = PARTITION_ONE
        self.job_queue = JobQueue()
        self._result_waiters: dict[int, list[asyncio.Future[ProcessInstance]]] = {}
        self._handles: dict[tuple[str, int, str], asyncio.TimerHandle] = {}
        self._dirty: dict[tuple[str, int], Any] = {}
        if store is not None:
            self._load(store)

    # --- keys, persistence, scheduling ----------------------------------------------------------
    def next_key(self) -> int:
        self._key += 1
        return self._key

    def _mark(self, kind: str, record: Any) -> None:
        if self.store is not None:
            self._dirty[(kind, record.key)] = record

    def commit(self) -> None:
        """Write every record changed by the last command (only with --data-dir)."""
        if self.store is not None and self._dirty:
            self.store.save(self._dirty, self._key)
            self._dirty = {}

    def _schedule(self, kind: str, key: int, name: str, due_ms: int, callback: Callable[[], None]) -> None:
        def fire() -> None:
            self._handles.pop((kind, key, name), None)
            callback()
            self.commit()

        self._cancel(kind, key, name)
        delay = max(0.0, (due_ms - now_ms()) / 1000)
        self._handles[(kind, key, name)] = asyncio.get_running_loop().call_later(delay, fire)

    def _cancel(self, kind: str, key: int, name: str = "") -> None:
        handle = self._handles.pop((kind, key, name), None)
        if handle is not None:
            handle.cancel()

    def _load(self, store: Store) -> None:
        records, last_key = store.load()
        self._key = max(self._key, last_key)
        for data in records.get("process", []):
            self._register_definition(ProcessDefinition(**data))
        for data in records.get("instance", []):
            instance = ProcessInstance.from_dict(data)
            self.instances[instance.key] = instance
            if instance.state == "ACTIVE" and instance.correlation_key and instance.message_name:
                self.message_buffer.lock(instance.bpmn_process_id, instance.correlation_key, instance.key)
        for data in records.get("job", []):
            job = Job(**data)
            self.jobs[job.key] = job
        for data in records.get("incident", []):
            incident = Incident(**data)
            self.incidents[incident.key] = incident
        for data in records.get("message", []):
            self.message_buffer.buffer(Message(**data))

    def resume(self) -> None:
        """After loading state: requeue jobs and re-arm deadlines, backoffs, timers and message TTLs."""
        for job in self.jobs.values():
            if job.state == "ACTIVATABLE":
                self.job_queue.push(job.type, job.key)
            elif job.state == "ACTIVATED":
                self._schedule_job_timeout(job)
            elif job.state == "FAILED" and job.retries > 0 and job.backoff_until:
                self._schedule_backoff(job)
        for instance in self.instances.values():
            for element in instance.elements.values():
                for boundary_id, due in element.timers.items():
                    self._schedule_timer(instance, element, boundary_id, due)
        for message in list(self.message_buffer.messages.values()):
            self._schedule("message", message.key, "", message.expires_at, self._expiry(message.key))

    # --- deployment -------------------------------------------------------------------------------
    def deploy(self, resources: Iterable[tuple[str, bytes]]) -> tuple[int, list[ProcessDefinition]]:
        parsed: list[tuple[str, bytes, Process]] = []
        for name, content in resources:
            if not name.endswith((".bpmn", ".xml")):
                raise errors.invalid_argument(
                    f"resource {name!r}: only BPMN resources (.bpmn/.xml) are supported by localzeebe"
                )
            try:
                parsed.extend((name, content, process) for process in parse_resource(content))
            except DeploymentError as error:
                raise errors.invalid_argument(f"resource {name!r}: {error}") from None
        if not parsed:
            raise errors.invalid_argument("expected at least one resource to deploy")
        deployed = [self._deploy_process(name, content, process) for name, content, process in parsed]
        deployment_key = self.next_key()
        self.commit()
        return deployment_key, deployed

    def _deploy_process(self, name: str, content: bytes, process: Process) -> ProcessDefinition:
        checksum = hashlib.sha256(content).hexdigest()
        latest_key = self.latest.get(process.bpmn_process_id)
        if latest_key is not None and self.definitions[latest_key].checksum == checksum:
            return self.definitions[latest_key]
        version = self.definitions[latest_key].version + 1 if latest_key is not None else 1
        definition = ProcessDefinition(
            key=self.next_key(),
            bpmn_process_id=process.bpmn_process_id,
            version=version,
            resource_name=name,
            checksum=checksum,
            resource=content.decode("utf-8"),
            deployed_at=now_ms(),
        )
        self._register_definition(definition, process)
        self._mark("process", definition)
        log.info("deployed process %s version %d key %d", definition.bpmn_process_id, version, definition.key)
        return definition

    def _register_definition(self, definition: ProcessDefinition, process: Process | None = None) -> None:
        if process is None:
            process = next(
                p
                for p in parse_resource(definition.resource.encode())
                if p.bpmn_process_id == definition.bpmn_process_id
            )
        self.definitions[definition.key] = definition
        self.models[definition.key] = process
        latest = self.latest.get(definition.bpmn_process_id)
        if latest is None or self.definitions[latest].version < definition.version:
            self.latest[definition.bpmn_process_id] = definition.key

    # --- process instances --------------------------------------------------------------------------
    def find_definition(self, bpmn_process_id: str, version: int, definition_key: int) -> ProcessDefinition:
        if definition_key:
            definition = self.definitions.get(definition_key)
            if definition is None:
                raise errors.not_found(f"no process definition with key '{definition_key}'")
            return definition
        if version > 0:
            for candidate in self.definitions.values():
                if candidate.bpmn_process_id == bpmn_process_id and candidate.version == version:
                    return candidate
            raise errors.not_found(f"no process with id '{bpmn_process_id}' and version {version}")
        latest = self.latest.get(bpmn_process_id)
        if latest is None:
            raise errors.not_found(f"no process with id '{bpmn_process_id}' is deployed")
        return self.definitions[latest]

    def create_instance(self, definition: ProcessDefinition, variables: Variables) -> ProcessInstance:
        process = self.models[definition.key]
        if process.none_start is None:
            raise errors.invalid_state(
                f"process '{definition.bpmn_process_id}' has no none start event; start it with a message"
            )
        instance = self._new_instance(definition, variables)
        self._activate(instance, process.element(process.none_start))
        self.commit()
        return instance

    def _new_instance(self, definition: ProcessDefinition, variables: Variables) -> ProcessInstance:
        instance = ProcessInstance(
            key=self.next_key(),
            process_definition_key=definition.key,
            bpmn_process_id=definition.bpmn_process_id,
            version=definition.version,
            state="ACTIVE",
            variables=dict(variables),
            start_time=now_ms(),
        )
        self.instances[instance.key] = instance
        self._history(instance, None, "ELEMENT_ACTIVATED")
        log.info("instance created key %d process %s", instance.key, instance.bpmn_process_id)
        return instance

    def active_instance(self, key: int) -> ProcessInstance:
        instance = self.instances.get(key)
        if instance is None or instance.state != "ACTIVE":
            raise errors.not_found(f"no active process instance with key '{key}'")
        return instance

    def cancel_instance(self, key: int) -> None:
        instance = self.active_instance(key)
        for element in list(instance.elements.values()):
            self._terminate(instance, element)
        self._end_instance(instance, "TERMINATED")
        self.commit()

    def wait_for_result(self, instance: ProcessInstance) -> asyncio.Future[ProcessInstance]:
        future: asyncio.Future[ProcessInstance] = asyncio.get_running_loop().create_future()
        if instance.state != "ACTIVE":
            future.set_result(instance)
        else:
            self._result_waiters.setdefault(instance.key, []).append(future)
        return future

    def set_variables(self, scope_key: int, variables: Variables, local: bool) -> int:
        instance, element = self._scope(scope_key)
        if local:
            (element.variables if element is not None else instance.variables).update(variables)
        else:
            propagate(instance, element, variables)
        self._mark("instance", instance)
        key = self.next_key()
        self.commit()
        return key

    def _scope(self, scope_key: int) -> tuple[ProcessInstance, ElementInstance | None]:
        instance = self.instances.get(scope_key)
        if instance is not None and instance.state == "ACTIVE":
            return instance, None
        for candidate in self.instances.values():
            if candidate.state == "ACTIVE" and scope_key in candidate.elements:
                return candidate, candidate.elements[scope_key]
        raise errors.not_found(f"no active element instance with key '{scope_key}'")

    # --- token flow -----------------------------------------------------------------------------------
    def _model(self, instance: ProcessInstance) -> Process:
        return self.models[instance.process_definition_key]

    def _history(self, instance: ProcessInstance, element: ElementInstance | None, intent: str) -> None:
        """Record an event; element None means the process instance itself, as Operate shows it."""
        instance.history.append(
            {
                "time": now_ms(),
                "element_id": element.element_id if element else instance.bpmn_process_id,
                "element_type": element.element_type if element else "process",
                "intent": intent,
            }
        )
        self._mark("instance", instance)

    def _activate(
        self, instance: ProcessInstance, element: Element, payload: Variables | None = None
    ) -> None:
        element_instance = ElementInstance(self.next_key(), element.id, element.type)
        instance.elements[element_instance.key] = element_instance
        self._history(instance, element_instance, "ELEMENT_ACTIVATED")
        if payload is not None:
            element_instance.variables.update(payload)
        self._run(instance, element_instance)

    def _run(self, instance: ProcessInstance, element_instance: ElementInstance) -> None:
        element = self._model(instance).element(element_instance.element_id)
        try:
            if element_instance.job_key is not None or element_instance.incident_key is not None:
                return
            if element.type == "serviceTask":
                self._activate_task(instance, element_instance, element)
            elif element.type == "exclusiveGateway":
                flow = self._choose_flow(instance, element)
                self._complete(instance, element_instance, [flow])
            elif element.type == "endEvent" and element.event == "error":
                self._throw_from_end_event(instance, element_instance, element)
            else:
                self._complete_event(instance, element_instance, element)
        except ElementFailure as failure:
            self._raise_incident(instance, element_instance, failure.error_type, failure.message)

    def _complete_event(
        self, instance: ProcessInstance, element_instance: ElementInstance, element: Element
    ) -> None:
        payload = element_instance.variables
        element_instance.variables = {}
        if element.outputs:
            context = {**instance.variables, **payload}
            propagate(instance, None, self._map(element.outputs, context))
        elif payload:
            propagate(instance, None, payload)
        self._complete(instance, element_instance, element.outgoing)

    def _map(self, mappings: list[Any], context: Variables) -> Variables:
        try:
            return apply_mappings(mappings, context)
        except MappingError as error:
            raise ElementFailure("IO_MAPPING_ERROR", str(error)) from None

    def _complete(
        self, instance: ProcessInstance, element_instance: ElementInstance, flows: list[SequenceFlow]
    ) -> None:
        self._leave(instance, element_instance, "ELEMENT_COMPLETED")
        model = self._model(instance)
        for flow in flows:
            if instance.state != "ACTIVE":
                return
            self._activate(instance, model.element(flow.target))
        if not instance.elements and instance.state == "ACTIVE":
            self._end_instance(instance, "COMPLETED")

    def _leave(self, instance: ProcessInstance, element_instance: ElementInstance, intent: str) -> None:
        instance.elements.pop(element_instance.key, None)
        for boundary_id in element_instance.timers:
            self._cancel("timer", element_instance.key, boundary_id)
        element_instance.timers = {}
        self._history(instance, element_instance, intent)

    def _terminate(self, instance: ProcessInstance, element_instance: ElementInstance) -> None:
        job = self.jobs.get(element_instance.job_key or 0)
        if job is not None and job.state in LIVE_JOB_STATES:
            self._retire_job(job, "CANCELED")
        for incident_key in instance.incident_keys:
            incident = self.incidents[incident_key]
            if incident.element_instance_key == element_instance.key and incident.state == "ACTIVE":
                self._resolve(incident)
        self._leave(instance, element_instance, "ELEMENT_TERMINATED")

    def _end_instance(self, instance: ProcessInstance, state: str) -> None:
        instance.state = state
        instance.end_time = now_ms()
        self._history(instance, None, "ELEMENT_COMPLETED" if state == "COMPLETED" else "ELEMENT_TERMINATED")
        for incident_key in instance.incident_keys:
            if self.incidents[incident_key].state == "ACTIVE":
                self._resolve(self.incidents[incident_key])
        log.info("instance %s key %d process %s", state.lower(), instance.key, instance.bpmn_process_id)
        for future in self._result_waiters.pop(instance.key, []):
            if not future.done():
                future.set_result(instance)
        key = instance.correlation_key
        if (
            key
            and instance.message_name
            and self.message_buffer.unlock(instance.bpmn_process_id, key, instance.key)
        ):
            self._correlate_buffered(instance.bpmn_process_id, key)

    def _choose_flow(self, instance: ProcessInstance, element: Element) -> SequenceFlow:
        context = instance.variables
        default = None
        for flow in element.outgoing:
            if flow.id == element.default_flow:
                default = flow
                continue
            if flow.condition is None:
                return flow
            result = flow.condition.evaluate(context)
            if result is True:
                return flow
            if result is not False:
                raise ElementFailure(
                    "EXTRACT_VALUE_ERROR",
                    f"Expected result of the expression '{flow.condition.text}' of flow '{flow.id}' "
                    f"to be 'BOOLEAN', but was {json.dumps(result)}",
                )
        if default is None:
            raise ElementFailure(
                "CONDITION_ERROR",
                f"Expected at least one condition to evaluate to true, or to have a default flow "
                f"(gateway '{element.id}')",
            )
        return default

    # --- service tasks and jobs ------------------------------------------------------------------------
    def _activate_task(
        self, instance: ProcessInstance, element_instance: ElementInstance, element: Element
    ) -> None:
        if element.inputs:
            element_instance.variables.update(self._map(element.inputs, instance.variables))
        context = visible(instance, element_instance)
        job_type = self._evaluate_string(element, element.job_type, context, "job type")
        retries = self._evaluate_retries(element, context)
        for boundary in element.boundary_events:
            if boundary.event == "timer" and boundary.timer_duration is not None:
                text = self._evaluate_string(boundary, boundary.timer_duration, context, "timer duration")
                try:
                    due = now_ms() + parse_duration_ms(text)
                except DurationError as error:
                    raise ElementFailure("EXTRACT_VALUE_ERROR", str(error)) from None
                element_instance.timers[boundary.id] = due
        job = Job(
            key=self.next_key(),
            type=job_type,
            process_instance_key=instance.key,
            element_instance_key=element_instance.key,
            element_id=element.id,
            bpmn_process_id=instance.bpmn_process_id,
            process_definition_key=instance.process_definition_key,
            version=instance.version,
            retries=retries,
            custom_headers=json.dumps(element.headers),
        )
        self.jobs[job.key] = job
        element_instance.job_key = job.key
        self._make_activatable(job)
        for boundary_id, due in element_instance.timers.items():
            self._schedule_timer(instance, element_instance, boundary_id, due)

    @staticmethod
    def _evaluate_string(element: Element, expression: Any, context: Variables, what: str) -> str:
        value: Value = expression.evaluate(context)
        if not isinstance(value, str) or not value:
            raise ElementFailure(
                "EXTRACT_VALUE_ERROR",
                f"Expected the {what} '{expression.text}' of '{element.id}' to be a non-empty STRING, "
                f"but was {json.dumps(value)}",
            )
        return value

    @staticmethod
    def _evaluate_retries(element: Element, context: Variables) -> int:
        assert element.job_retries is not None
        value: Value = element.job_retries.evaluate(context)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
        raise ElementFailure(
            "EXTRACT_VALUE_ERROR",
            f"Expected retries '{element.job_retries.text}' of '{element.id}' to be a NUMBER, "
            f"but was {json.dumps(value)}",
        )

    def _make_activatable(self, job: Job) -> None:
        job.state = "ACTIVATABLE"
        job.worker = ""
        job.deadline = 0
        job.backoff_until = 0
        self._mark("job", job)
        self.job_queue.push(job.type, job.key)

    def _retire_job(self, job: Job, state: str) -> None:
        job.state = state
        self.job_queue.remove(job.type, job.key)
        self._cancel("job", job.key)
        self._mark("job", job)

    def activate_jobs(self, job_type: str, worker: str, timeout_ms: int, max_jobs: int) -> list[Job]:
        activated: list[Job] = []
        deadline = now_ms() + timeout_ms
        for key in self.job_queue.take(job_type, max_jobs):
            job = self.jobs[key]
            job.state = "ACTIVATED"
            job.worker = worker
            job.deadline = deadline
            self._schedule_job_timeout(job)
            self._mark("job", job)
            activated.append(job)
            log.info("job activated key %d type %s worker %s", key, job_type, worker)
        self.commit()
        return activated

    def job_variables(self, job: Job, names: Iterable[str]) -> Variables:
        instance = self.instances[job.process_instance_key]
        variables = visible(instance, instance.elements.get(job.element_instance_key))
        wanted = list(names)
        if wanted:
            return {name: variables[name] for name in wanted if name in variables}
        return variables

    async def wait_for_jobs(self, job_type: str, timeout_s: float) -> None:
        await self.job_queue.wait(job_type, timeout_s)

    def _schedule_job_timeout(self, job: Job) -> None:
        deadline = job.deadline

        def timed_out() -> None:
            if job.state == "ACTIVATED" and job.deadline == deadline:
                log.info("job timed out key %d type %s: activatable again (retries kept)", job.key, job.type)
                self._make_activatable(job)

        self._schedule("job", job.key, "", deadline, timed_out)

    def _schedule_backoff(self, job: Job) -> None:
        def back_off_over() -> None:
            if job.state == "FAILED" and job.retries > 0:
                self._make_activatable(job)

        self._schedule("job", job.key, "", job.backoff_until, back_off_over)

    def _job_for_command(self, key: int, action: str) -> Job:
        job = self.jobs.get(key)
        if job is None or job.state in {"COMPLETED", "CANCELED"}:
            raise errors.not_found(f"Expected to {action} job with key '{key}', but no such job was found")
        if job.state not in {"ACTIVATABLE", "ACTIVATED"}:
            raise errors.invalid_state(
                f"Expected to {action} job with key '{key}', but it is in state '{job.state}'"
            )
        return job

    def _job_scope(self, job: Job) -> tuple[ProcessInstance, ElementInstance]:
        instance = self.instances[job.process_instance_key]
        return instance, instance.elements[job.element_instance_key]

    def complete_job(self, key: int, variables: Variables) -> None:
        job = self._job_for_command(key, "complete")
        instance, element_instance = self._job_scope(job)
        self._retire_job(job, "COMPLETED")
        element_instance.job_key = None
        log.info("job completed key %d type %s", key, job.type)
        element = self._model(instance).element(job.element_id)
        if element.outputs:
            element_instance.variables.update(variables)
        else:
            propagate(instance, element_instance, variables)
        self._complete_task(instance, element_instance, element)
        self.commit()

    def _complete_task(
        self, instance: ProcessInstance, element_instance: ElementInstance, element: Element
    ) -> None:
        try:
            if element.outputs:
                outputs = self._map(element.outputs, visible(instance, element_instance))
                propagate(instance, None, outputs)
        except ElementFailure as failure:
            self._raise_incident(instance, element_instance, failure.error_type, failure.message)
            return
        self._complete(instance, element_instance, element.outgoing)

    def fail_job(self, key: int, retries: int, message: str, backoff_ms: int, variables: Variables) -> None:
        job = self._job_for_command(key, "fail")
        instance, element_instance = self._job_scope(job)
        element_instance.variables.update(variables)
        self._mark("instance", instance)
        job.retries = retries
        job.error_message = message
        self._cancel("job", job.key)
        log.info("job failed key %d type %s retries %d: %s", key, job.type, retries, message)
        if retries <= 0:
            self._retire_job(job, "FAILED")
            self._raise_incident(
                instance, element_instance, "JOB_NO_RETRIES", message or "No more retries left.", job.key
            )
        elif backoff_ms > 0:
            self._retire_job(job, "FAILED")
            job.backoff_until = now_ms() + backoff_ms
            self._schedule_backoff(job)
        else:
            self._make_activatable(job)
        self.commit()

    def throw_error(self, key: int, code: str, message: str, variables: Variables) -> None:
        job = self._job_for_command(key, "throw an error for")
        instance, element_instance = self._job_scope(job)
        log.info("job error thrown key %d type %s code %s", key, job.type, code)
        job.error_message = message
        self._retire_job(job, "ERROR_THROWN")
        if not self._catch_error(instance, element_instance, code, message, variables):
            self._raise_incident(
                instance,
                element_instance,
                "UNHANDLED_ERROR_EVENT",
                f"Expected to throw an error event with the code '{code}' with message '{message}', "
                f"but it was not caught. No error events are available in the scope.",
                job.key,
            )
        self.commit()

    def _catch_error(
        self,
        instance: ProcessInstance,
        element_instance: ElementInstance,
        code: str,
        message: str,
        variables: Variables,
    ) -> bool:
        element = self._model(instance).element(element_instance.element_id)
        errors_caught = [b for b in element.boundary_events if b.event == "error"]
        specific = [b for b in errors_caught if b.error_code is not None and b.error_code.text == code]
        catch_all = [b for b in errors_caught if b.error_code is None]
        candidates = specific or catch_all
        if not candidates:
            return False
        boundary = candidates[0]
        payload = dict(variables)
        if boundary.error_code_variable:
            payload[boundary.error_code_variable] = code
        if boundary.error_message_variable:
            payload[boundary.error_message_variable] = message
        self._terminate(instance, element_instance)
        self._activate(instance, boundary, payload)
        return True

    def _throw_from_end_event(
        self, instance: ProcessInstance, element_instance: ElementInstance, element: Element
    ) -> None:
        assert element.error_code is not None
        code = self._evaluate_string(element, element.error_code, instance.variables, "errorCode")
        raise ElementFailure(
            "UNHANDLED_ERROR_EVENT",
            f"Expected to throw an error event with the code '{code}', but it was not caught. "
            f"No error events are available in the scope.",
        )

    def update_job_retries(self, key: int, retries: int) -> None:
        if retries < 1:
            raise errors.invalid_argument(f"Expected retries to be greater than zero, but was {retries}")
        job = self.jobs.get(key)
        if job is None or job.state not in LIVE_JOB_STATES:
            raise errors.not_found(
                f"Expected to update retries of job with key '{key}', but no such job was found"
            )
        job.retries = retries
        self._mark("job", job)
        self.commit()

    def update_job_timeout(self, key: int, timeout_ms: int) -> None:
        job = self.jobs.get(key)
        if job is None or job.state not in LIVE_JOB_STATES:
            raise errors.not_found(
                f"Expected to update timeout of job with key '{key}', but no such job was found"
            )
        if job.state != "ACTIVATED":
            raise errors.invalid_state(
                f"Expected to update timeout of job with key '{key}', but it is in state '{job.state}'"
            )
        job.deadline = now_ms() + timeout_ms
        self._schedule_job_timeout(job)
        self._mark("job", job)
        self.commit()

    # --- incidents -----------------------------------------------------------------------------------
    def _raise_incident(
        self,
        instance: ProcessInstance,
        element_instance: ElementInstance,
        error_type: str,
        message: str,
        job_key: int | None = None,
    ) -> None:
        incident = Incident(
            key=self.next_key(),
            error_type=error_type,
            error_message=message,
            process_instance_key=instance.key,
            element_instance_key=element_instance.key,
            element_id=element_instance.element_id,
            bpmn_process_id=instance.bpmn_process_id,
            job_key=job_key,
            created=now_ms(),
        )
        self.incidents[incident.key] = incident
        instance.incident_keys.append(incident.key)
        element_instance.incident_key = incident.key
        self._mark("incident", incident)
        self._history(instance, element_instance, "INCIDENT_CREATED")
        log.info(
            "incident created key %d type %s instance %d element %s: %s",
            incident.key,
            error_type,
            instance.key,
            element_instance.element_id,
            message,
        )

    def _resolve(self, incident: Incident) -> None:
        incident.state = "RESOLVED"
        self._mark("incident", incident)
        instance = self.instances[incident.process_instance_key]
        element_instance = instance.elements.get(incident.element_instance_key)
        if element_instance is not None and element_instance.incident_key == incident.key:
            element_instance.incident_key = None
        log.info("incident resolved key %d instance %d", incident.key, incident.process_instance_key)

    def resolve_incident(self, key: int) -> None:
        incident = self.incidents.get(key)
        if incident is None or incident.state != "ACTIVE":
            raise errors.not_found(
                f"Expected to resolve incident with key '{key}', but no such incident was found"
            )
        job = self.jobs.get(incident.job_key or 0)
        if job is not None and job.retries <= 0:
            raise errors.invalid_state(
                f"Expected to resolve incident with key '{key}', but job '{job.key}' has no retries left; "
                "update the job's retries first"
            )
        self._resolve(incident)
        instance = self.instances[incident.process_instance_key]
        element_instance = instance.elements[incident.element_instance_key]
        self._history(instance, element_instance, "INCIDENT_RESOLVED")
        if job is not None:
            self._make_activatable(job)
        elif element_instance.job_key is None and self._job_completed(element_instance):
            self._complete_task(
                instance, element_instance, self._model(instance).element(incident.element_id)
            )
        else:
            self._run(instance, element_instance)
        self.commit()

    def _job_completed(self, element_instance: ElementInstance) -> bool:
        return element_instance.element_type == "serviceTask" and any(
            job.element_instance_key == element_instance.key and job.state == "COMPLETED"
            for job in self.jobs.values()
        )

    # --- timers --------------------------------------------------------------------------------------
    def _schedule_timer(
        self, instance: ProcessInstance, element_instance: ElementInstance, boundary_id: str, due: int
    ) -> None:
        def fire() -> None:
            self._timer_fired(instance.key, element_instance.key, boundary_id)

        self._schedule("timer", element_instance.key, boundary_id, due, fire)

    def _timer_fired(self, instance_key: int, element_instance_key: int, boundary_id: str) -> None:
        instance = self.instances[instance_key]
        element_instance = instance.elements.get(element_instance_key)
        if (
            instance.state != "ACTIVE"
            or element_instance is None
            or boundary_id not in element_instance.timers
        ):
            return
        del element_instance.timers[boundary_id]
        boundary = self._model(instance).element(boundary_id)
        log.info(
            "timer fired %s instance %d (interrupting=%s)", boundary_id, instance_key, boundary.interrupting
        )
        if boundary.interrupting:
            self._terminate(instance, element_instance)
        self._activate(instance, boundary)

    # --- messages ------------------------------------------------------------------------------------
    def publish_message(
        self, name: str, correlation_key: str, ttl_ms: int, message_id: str, variables: Variables
    ) -> int:
        if not name:
            raise errors.invalid_argument("Expected a message name, but it was empty")
        if self.message_buffer.is_duplicate(name, correlation_key, message_id):
            raise errors.already_exists(
                f"Expected to publish a new message with id '{message_id}', but a message with that id "
                f"was already published"
            )
        published = now_ms()
        message = Message(
            self.next_key(),
            name,
            correlation_key,
            message_id,
            variables,
            published,
            published + max(ttl_ms, 0),
        )
        log.info("message published key %d name %s correlation key %s", message.key, name, correlation_key)
        for bpmn_process_id in self._subscribers(name):
            self._correlate_start(message, bpmn_process_id)
        if ttl_ms > 0:
            self.message_buffer.buffer(message)
            self._mark("message", message)
            self._schedule("message", message.key, "", message.expires_at, self._expiry(message.key))
        self.commit()
        return message.key

    def _subscribers(self, message_name: str) -> list[str]:
        return [
            bpmn_process_id
            for bpmn_process_id, key in self.latest.items()
            if message_name in self.models[key].message_starts
        ]

    def _correlate_start(self, message: Message, bpmn_process_id: str) -> bool:
        definition = self.definitions[self.latest[bpmn_process_id]]
        if bpmn_process_id in message.correlated_processes or message.key < definition.key:
            return False  # once per process; never to a process deployed after the message was published
        if message.correlation_key and self.message_buffer.is_locked(
            bpmn_process_id, message.correlation_key
        ):
            return False
        process = self.models[definition.key]
        instance = self._new_instance(definition, {})
        instance.correlation_key = message.correlation_key
        instance.message_name = message.name
        message.correlated_processes.append(bpmn_process_id)
        self._mark("message", message)
        if message.correlation_key:
            self.message_buffer.lock(bpmn_process_id, message.correlation_key, instance.key)
        log.info("message correlated key %d name %s to instance %d", message.key, message.name, instance.key)
        self._activate(instance, process.element(process.message_starts[message.name]), message.variables)
        return True

    def _correlate_buffered(self, bpmn_process_id: str, correlation_key: str) -> None:
        latest = self.latest.get(bpmn_process_id)
        if latest is None:
            return
        names = set(self.models[latest].message_starts)
        for message in self.message_buffer.waiting(names, correlation_key, now_ms()):
            if self._correlate_start(message, bpmn_process_id):
                return

    def _expiry(self, key: int) -> Callable[[], None]:
        def expire() -> None:
            message = self.message_buffer.expire(key)
            if message is None:
                return
            if self.store is not None:
                self._dirty[("message", key)] = None
            log.info("message expired key %d name %s", key, message.name)

        return expire
