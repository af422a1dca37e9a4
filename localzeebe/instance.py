"""Token flow: activating and completing elements, service tasks, gateways, error, timer and message
boundary events, intermediate timer catch events, and the end of an instance."""

from __future__ import annotations

import json
import logging
from typing import Any

from localzeebe.core import LIVE_JOB_STATES, ElementFailure, Waiters
from localzeebe.feel import Value
from localzeebe.job import JobLifecycle
from localzeebe.model import Element, SequenceFlow
from localzeebe.state import (
    ElementInstance,
    Job,
    ProcessDefinition,
    ProcessInstance,
    Variables,
    now_ms,
)
from localzeebe.store import Store
from localzeebe.timer import DurationError, parse_interval
from localzeebe.variables import MappingError, apply_mappings, propagate, visible

log = logging.getLogger("localzeebe")
MAX_RETRIES = 2**31 - 1  # the gateway's retries fields are int32


class TokenFlow(JobLifecycle):
    def __init__(self, store: Store | None = None) -> None:
        super().__init__(store)
        self.result_waiters: Waiters[int, ProcessInstance] = Waiters()
        # Open message subscriptions: (message name, correlation key) -> {(instance key, element instance
        # key): boundary event id}, in the order they were opened.
        self.subscriptions: dict[tuple[str, str], dict[tuple[int, int], str]] = {}

    def _subscription_opened(
        self, instance: ProcessInstance, element_instance: ElementInstance, boundary_id: str
    ) -> None:
        """Hook: a buffered message may correlate at once (message correlation overrides it)."""

    def _instance_ended(self, instance: ProcessInstance) -> None:
        """Hook for what follows the end of an instance (message correlation overrides it)."""

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

    async def wait_for_result(self, instance: ProcessInstance, timeout_s: float | None) -> ProcessInstance:
        """The instance once it has ended; TimeoutError after timeout_s (None: no limit)."""
        if instance.state != "ACTIVE":
            return instance
        return await self.result_waiters.wait(instance.key, timeout_s)

    def _activate(
        self, instance: ProcessInstance, element: Element, payload: Variables | None = None
    ) -> None:
        element_instance = self._enter(instance, element)
        if payload is not None:
            element_instance.variables.update(payload)
        self._run(instance, element_instance)

    def _enter(self, instance: ProcessInstance, element: Element) -> ElementInstance:
        element_instance = ElementInstance(self.next_key(), element.id, element.type)
        instance.elements[element_instance.key] = element_instance
        self._history(instance, element_instance, "ELEMENT_ACTIVATED")
        return element_instance

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
            elif element.type == "intermediateCatchEvent":
                self._wait_for_timer(instance, element_instance, element)
            else:
                self._complete_event(instance, element_instance, element)
        except ElementFailure as failure:
            self._raise_incident(instance, element_instance, failure.error_type, failure.message)

    def _complete_event(
        self, instance: ProcessInstance, element_instance: ElementInstance, element: Element
    ) -> None:
        payload = element_instance.variables  # kept until the mappings succeed: a retry needs it again
        if element.outputs:
            context = {**instance.variables, **payload}
            propagate(instance, None, self._map(element.outputs, context, merge=True))
        elif payload and element.event != "error":
            # A message's variables reach the process scope. Variables thrown with an error are local to
            # the catch event (gateway.proto, ThrowErrorRequest): without an output mapping they end with it.
            propagate(instance, None, payload)
        self._complete(instance, element_instance, element.outgoing)

    def _map(self, mappings: list[Any], context: Variables, *, merge: bool) -> Variables:
        try:
            return apply_mappings(mappings, context, merge=merge)
        except MappingError as error:
            raise ElementFailure("IO_MAPPING_ERROR", str(error)) from None

    def _complete(
        self, instance: ProcessInstance, element_instance: ElementInstance, flows: list[SequenceFlow]
    ) -> None:
        self._leave(instance, element_instance, "ELEMENT_COMPLETED")
        model = self._model(instance)
        # Every token exists before any of them runs: one that ends at once must not end the instance.
        targets = [self._enter(instance, model.element(flow.target)) for flow in flows]
        for target in targets:
            if instance.state != "ACTIVE":
                return
            self._run(instance, target)
        if not instance.elements and instance.state == "ACTIVE":
            self._end_instance(instance, "COMPLETED")

    def _leave(self, instance: ProcessInstance, element_instance: ElementInstance, intent: str) -> None:
        instance.elements.pop(element_instance.key, None)
        for boundary_id in element_instance.timers:
            self._cancel("timer", element_instance.key, boundary_id)
        element_instance.timers = {}
        for name, key in element_instance.subscriptions.values():
            self.subscriptions.get((name, key), {}).pop((instance.key, element_instance.key), None)
        element_instance.subscriptions = {}
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
        self.result_waiters.wake(instance.key, instance)
        self._instance_ended(instance)

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

    def _activate_task(
        self, instance: ProcessInstance, element_instance: ElementInstance, element: Element
    ) -> None:
        if element.inputs:
            element_instance.variables.update(self._map(element.inputs, instance.variables, merge=False))
        context = visible(instance, element_instance)
        job_type = self._evaluate_string(element, element.job_type, context, "job type")
        retries = self._evaluate_retries(element, context)
        # All or none: an incident leaves no timer or subscription behind.
        timers = self._timer_due_times(element, context)
        subscriptions = self._subscription_keys(element, context)
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
        element_instance.timers = timers
        self._make_activatable(job)
        for boundary_id, due in timers.items():
            self._schedule_timer(instance, element_instance, boundary_id, due)
        for boundary_id, name_and_key in subscriptions.items():
            self._open_subscription(instance, element_instance, boundary_id, name_and_key)
        for boundary_id in subscriptions:
            if element_instance.key not in instance.elements:
                break  # a buffered message already interrupted the task
            self._subscription_opened(instance, element_instance, boundary_id)

    def _open_subscription(
        self,
        instance: ProcessInstance,
        element_instance: ElementInstance,
        boundary_id: str,
        name_and_key: list[str],
    ) -> None:
        element_instance.subscriptions[boundary_id] = name_and_key
        name, key = name_and_key
        self.subscriptions.setdefault((name, key), {})[(instance.key, element_instance.key)] = boundary_id

    def _subscription_keys(self, element: Element, context: Variables) -> dict[str, list[str]]:
        """Message name and correlation key of each message boundary event (Zeebe accepts a string or a
        number as the key and correlates on its text)."""
        keys: dict[str, list[str]] = {}
        for boundary in element.boundary_events:
            if boundary.event != "message" or boundary.correlation_key is None:
                continue
            assert boundary.message_name is not None
            value: Value = boundary.correlation_key.evaluate(context)
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ElementFailure(
                    "EXTRACT_VALUE_ERROR",
                    f"Failed to extract the correlation key for '{boundary.correlation_key.text}' of "
                    f"'{boundary.id}': the value must be either a string or a number, but was "
                    f"{json.dumps(value)}",
                )
            text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
            keys[boundary.id] = [boundary.message_name, text]
        return keys

    def _wait_for_timer(
        self, instance: ProcessInstance, element_instance: ElementInstance, element: Element
    ) -> None:
        """An intermediate timer catch event: the token waits here until the duration has passed."""
        due = self._timer_due(element, instance.variables)
        element_instance.timers[element.id] = due
        self._schedule_timer(instance, element_instance, element.id, due)

    def _correlate_to_boundary(
        self,
        instance: ProcessInstance,
        element_instance: ElementInstance,
        boundary_id: str,
        payload: Variables,
    ) -> None:
        """An interrupting message boundary event: the task ends and the token leaves through the event."""
        self._terminate(instance, element_instance)
        self._activate(instance, self._model(instance).element(boundary_id), dict(payload))

    def _timer_due_times(self, element: Element, context: Variables) -> dict[str, int]:
        return {
            boundary.id: self._timer_due(boundary, context)
            for boundary in element.boundary_events
            if boundary.event == "timer" and boundary.timer_duration is not None
        }

    def _timer_due(self, event: Element, context: Variables) -> int:
        """The due time of the event's timer (Zeebe: CatchEventBehavior#subscribeToTimerEvent). A zero or
        negative duration is due now or in the past, and such a timer fires at once."""
        assert event.timer_duration is not None
        text = self._evaluate_string(event, event.timer_duration, context, "timer duration")
        try:
            return parse_interval(text).due_ms(now_ms())
        except DurationError as error:
            raise ElementFailure(
                "EXTRACT_VALUE_ERROR", f"{error} for expression '{event.timer_duration.text}'"
            ) from None

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
        retries: int | None = None
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            retries = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            retries = value
        elif isinstance(value, float) and value.is_integer():
            retries = int(value)
        if retries is not None and -MAX_RETRIES <= retries <= MAX_RETRIES:
            return retries
        raise ElementFailure(
            "EXTRACT_VALUE_ERROR",
            f"Expected retries '{element.job_retries.text}' of '{element.id}' to be a 32-bit NUMBER, "
            f"but was {json.dumps(value)}",
        )

    def _complete_task(
        self, instance: ProcessInstance, element_instance: ElementInstance, element: Element
    ) -> None:
        try:
            if element.outputs:
                outputs = self._map(element.outputs, visible(instance, element_instance), merge=True)
                propagate(instance, None, outputs)
        except ElementFailure as failure:
            self._raise_incident(instance, element_instance, failure.error_type, failure.message)
            return
        self._complete(instance, element_instance, element.outgoing)

    def _catch_error(
        self,
        instance: ProcessInstance,
        element_instance: ElementInstance,
        code: str,
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
        self._terminate(instance, element_instance)
        self._activate(instance, boundary, dict(variables))
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
        if boundary_id == element_instance.element_id:
            log.info("timer fired %s instance %d (catch event)", boundary_id, instance_key)
            self._complete(instance, element_instance, self._model(instance).element(boundary_id).outgoing)
            return
        boundary = self._model(instance).element(boundary_id)
        log.info(
            "timer fired %s instance %d (interrupting=%s)", boundary_id, instance_key, boundary.interrupting
        )
        if boundary.interrupting:
            self._terminate(instance, element_instance)
        self._activate(instance, boundary)
