"""The engine: the commands the gateway serves (deploy, create, cancel, job commands, incidents,
variables) and loading durable state. Token flow, jobs and messages live in their own modules."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from localzeebe import errors
from localzeebe.core import LIVE_JOB_STATES
from localzeebe.deployment import DeploymentError, parse_resource
from localzeebe.message import TTL_CHECK_INTERVAL_MS, MessageCorrelation
from localzeebe.model import Process
from localzeebe.state import (
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
from localzeebe.variables import propagate

log = logging.getLogger("localzeebe")


class Engine(MessageCorrelation):
    def __init__(
        self, store: Store | None = None, ttl_check_interval_ms: int = TTL_CHECK_INTERVAL_MS
    ) -> None:
        super().__init__(store, ttl_check_interval_ms)
        if store is not None:
            self._load(store)

    def _load(self, store: Store) -> None:
        records, last_key = store.load()
        self._key = self._saved_key = max(self._key, last_key)
        for data in records.get("process", []):
            self._register_definition(ProcessDefinition(**data))
        for data in records.get("instance", []):
            instance = ProcessInstance.from_dict(data)
            self.instances[instance.key] = instance
            if instance.state == "ACTIVE" and instance.correlation_key and instance.message_name:
                self.message_buffer.lock(instance.bpmn_process_id, instance.correlation_key, instance.key)
            for element in instance.elements.values():
                for boundary_id, name_and_key in element.subscriptions.items():
                    self._open_subscription(instance, element, boundary_id, name_and_key)
        for data in records.get("job", []):
            job = Job(**data)
            self.jobs[job.key] = job
        for data in records.get("incident", []):
            incident = Incident(**data)
            self.incidents[incident.key] = incident
        for data in records.get("message", []):
            self.message_buffer.buffer(self._loaded_message(data))

    def _loaded_message(self, data: dict[str, Any]) -> Message:
        """A buffered message as stored; one stored before correlations were kept per process lists the
        instances it reached, which become their processes."""
        reached = data.pop("correlated_instances", [])
        processes = data.setdefault("correlated_processes", [])
        for instance_key in reached:
            instance = self.instances.get(instance_key)
            if instance is not None and instance.bpmn_process_id not in processes:
                processes.append(instance.bpmn_process_id)
        return Message(**data)

    def resume(self) -> None:
        """After loading state: requeue jobs, re-arm deadlines, backoffs and timers, start the TTL checker."""
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
        self.start_ttl_checker()

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
        latest = self.definitions[latest_key] if latest_key is not None else None
        # Zeebe's duplicate check: the same content under the same resource name keeps the version.
        if latest is not None and latest.checksum == checksum and latest.resource_name == name:
            return latest
        version = latest.version + 1 if latest is not None else 1
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
        if not self._catch_error(instance, element_instance, code, variables):
            self._raise_incident(
                instance,
                element_instance,
                "UNHANDLED_ERROR_EVENT",
                f"Expected to throw an error event with the code '{code}' with message '{message}', "
                f"but it was not caught. No error events are available in the scope.",
                job.key,
            )
        self.commit()

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
