"""The engine's state and the plumbing every part of it shares: keys, persistence, scheduling,
history and incidents. One asyncio event loop owns it all, so no locks are needed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from localzeebe.model import Process
from localzeebe.state import (
    PARTITION_ONE,
    ElementInstance,
    Incident,
    Job,
    ProcessDefinition,
    ProcessInstance,
    now_ms,
)
from localzeebe.store import Store

log = logging.getLogger("localzeebe")

LIVE_JOB_STATES = {"ACTIVATABLE", "ACTIVATED", "FAILED", "ERROR_THROWN"}
WaitKey = TypeVar("WaitKey")
Outcome = TypeVar("Outcome")


class Waiters(Generic[WaitKey, Outcome]):
    """Requests waiting for something to happen to a key (long polls, instance results). A request that
    gives up (timeout, client cancel) removes its waiter, so nothing accumulates."""

    def __init__(self) -> None:
        self._futures: dict[WaitKey, list[asyncio.Future[Outcome]]] = {}

    async def wait(self, key: WaitKey, timeout_s: float | None) -> Outcome:
        """The outcome passed to wake(key); TimeoutError after timeout_s (None: no limit)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._futures.setdefault(key, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            futures = self._futures.get(key)
            if futures is not None and future in futures:
                futures.remove(future)
                if not futures:
                    del self._futures[key]

    def wake(self, key: WaitKey, outcome: Outcome) -> None:
        for future in self._futures.pop(key, []):
            if not future.done():
                future.set_result(outcome)

    def __len__(self) -> int:
        return sum(len(futures) for futures in self._futures.values())


class ElementFailure(Exception):
    """An element cannot proceed; it stays where it is with an incident of this type."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class EngineCore:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store
        self.definitions: dict[int, ProcessDefinition] = {}
        self.models: dict[int, Process] = {}
        self.latest: dict[str, int] = {}
        self.instances: dict[int, ProcessInstance] = {}
        self.jobs: dict[int, Job] = {}
        self.incidents: dict[int, Incident] = {}
        self._key = self._saved_key = PARTITION_ONE
        self._handles: dict[tuple[str, int, str], asyncio.TimerHandle] = {}
        self._dirty: dict[tuple[str, int], Any] = {}

    def next_key(self) -> int:
        self._key += 1
        return self._key

    def _mark(self, kind: str, record: Any) -> None:
        if self.store is not None:
            self._dirty[(kind, record.key)] = record

    def _forget(self, kind: str, key: int) -> None:
        if self.store is not None:
            self._dirty[(kind, key)] = None

    def commit(self) -> None:
        """Write every record changed by the last command and the key counter (only with --data-dir):
        a key handed out without a record (a message nobody buffers, a repeated deployment) stays used."""
        if self.store is not None and (self._dirty or self._key != self._saved_key):
            self.store.save(self._dirty, self._key)
            self._dirty = {}
            self._saved_key = self._key

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
