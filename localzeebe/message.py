"""Messages: the buffer with its message-id index and one-active-instance-per-correlation-key locks,
and correlation to message start events and to the open subscriptions of message boundary events."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Final

from localzeebe import errors
from localzeebe.instance import TokenFlow
from localzeebe.state import (
    ElementInstance,
    Message,
    ProcessInstance,
    Variables,
    now_ms,
)
from localzeebe.store import Store

log = logging.getLogger("localzeebe")
# Zeebe's default for zeebe.broker.experimental.engine.messages.ttlCheckerInterval (PT1M).
TTL_CHECK_INTERVAL_MS: Final = 60_000


class MessageBuffer:
    def __init__(self) -> None:
        self.messages: dict[int, Message] = {}
        self._ids: dict[tuple[str, str, str], int] = {}
        self._locks: dict[tuple[str, str], int] = {}  # (bpmn process id, correlation key) -> instance key

    def is_duplicate(self, name: str, correlation_key: str, message_id: str) -> bool:
        return bool(message_id) and (name, correlation_key, message_id) in self._ids

    def buffer(self, message: Message) -> None:
        self.messages[message.key] = message
        if message.message_id:
            self._ids[(message.name, message.correlation_key, message.message_id)] = message.key

    def expire(self, key: int) -> Message | None:
        message = self.messages.pop(key, None)
        if message is not None:
            self._ids.pop((message.name, message.correlation_key, message.message_id), None)
        return message

    def is_locked(self, bpmn_process_id: str, correlation_key: str) -> bool:
        return (bpmn_process_id, correlation_key) in self._locks

    def lock(self, bpmn_process_id: str, correlation_key: str, instance_key: int) -> None:
        self._locks[(bpmn_process_id, correlation_key)] = instance_key

    def unlock(self, bpmn_process_id: str, correlation_key: str, instance_key: int) -> bool:
        """Release the lock if this instance holds it; True when it did."""
        if self._locks.get((bpmn_process_id, correlation_key)) != instance_key:
            return False
        del self._locks[(bpmn_process_id, correlation_key)]
        return True

    def waiting(self, names: set[str], correlation_key: str, now: int) -> Iterator[Message]:
        """Unexpired buffered messages for these names and key, oldest first."""
        for key in sorted(self.messages):
            message = self.messages[key]
            if (
                message.name in names
                and message.correlation_key == correlation_key
                and message.expires_at > now
            ):
                yield message


class MessageCorrelation(TokenFlow):
    def __init__(
        self, store: Store | None = None, ttl_check_interval_ms: int = TTL_CHECK_INTERVAL_MS
    ) -> None:
        super().__init__(store)
        self.message_buffer = MessageBuffer()
        self.ttl_check_interval_ms = ttl_check_interval_ms

    def start_ttl_checker(self) -> None:
        """Removes expired messages every interval, as Zeebe's MessageTimeToLiveChecker does: until it runs,
        an expired message's id is still refused (only correlation looks at the deadline itself)."""

        def check() -> None:
            self._expire_messages(now_ms())
            self.start_ttl_checker()

        self._schedule("ttl-checker", 0, "", now_ms() + self.ttl_check_interval_ms, check)

    def _expire_messages(self, now: int) -> None:
        for message in list(self.message_buffer.messages.values()):
            if message.expires_at <= now:
                self.message_buffer.expire(message.key)
                self._forget("message", message.key)
                log.info("message expired key %d name %s", message.key, message.name)

    def _instance_ended(self, instance: ProcessInstance) -> None:
        key = instance.correlation_key
        if (
            key
            and instance.message_name
            and self.message_buffer.unlock(instance.bpmn_process_id, key, instance.key)
        ):
            self._correlate_buffered(instance.bpmn_process_id, key)

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
        self._correlate_subscriptions(message)
        for bpmn_process_id in self._subscribers(name):
            self._correlate_start(message, bpmn_process_id)
        if ttl_ms > 0:
            self.message_buffer.buffer(message)
            self._mark("message", message)
        self.commit()
        return message.key

    def _correlate_subscriptions(self, message: Message) -> None:
        """Open subscriptions with the message's name and key, at most one per process (Zeebe's
        MessagePublishProcessor: "correlate the message only once per process"): of several instances of
        one process waiting for the same message, only the first takes it. Zeebe visits them in its state's
        order, by element instance key: the element entered first."""
        opened = self.subscriptions.get((message.name, message.correlation_key), {})
        by_element_instance = sorted(opened.items(), key=lambda subscription: subscription[0][1])
        for (instance_key, element_instance_key), boundary_id in by_element_instance:
            instance = self.instances[instance_key]
            element_instance = instance.elements.get(element_instance_key)
            if element_instance is None or instance.bpmn_process_id in message.correlated_processes:
                continue
            self._correlate_catch(message, instance, element_instance, boundary_id)

    def _subscription_opened(
        self, instance: ProcessInstance, element_instance: ElementInstance, boundary_id: str
    ) -> None:
        """A subscription opened after its message was published takes the oldest unexpired buffered one
        that is not yet correlated to this process (Zeebe's MessageCorrelator#correlateMessage): a message
        that already reached another instance of the process, or started one, does not correlate again."""
        name, key = element_instance.subscriptions[boundary_id]
        for message in self.message_buffer.waiting({name}, key, now_ms()):
            if instance.bpmn_process_id not in message.correlated_processes:
                self._correlate_catch(message, instance, element_instance, boundary_id)
                return

    def _correlate_catch(
        self, message: Message, instance: ProcessInstance, element_instance: ElementInstance, boundary_id: str
    ) -> None:
        message.correlated_processes.append(instance.bpmn_process_id)
        self._mark("message", message)
        log.info(
            "message correlated key %d name %s to instance %d at %s",
            message.key,
            message.name,
            instance.key,
            boundary_id,
        )
        self._correlate_to_boundary(instance, element_instance, boundary_id, message.variables)

    def _subscribers(self, message_name: str) -> list[str]:
        return [
            bpmn_process_id
            for bpmn_process_id, key in self.latest.items()
            if message_name in self.models[key].message_starts
        ]

    def _correlate_start(self, message: Message, bpmn_process_id: str) -> bool:
        definition = self.definitions[self.latest[bpmn_process_id]]
        if bpmn_process_id in message.correlated_processes:
            return False  # started an instance of this process, or reached one of its catch events
        if message.correlation_key and self.message_buffer.is_locked(
            bpmn_process_id, message.correlation_key
        ):
            return False
        process = self.models[definition.key]
        instance = self._new_instance(definition, {})
        instance.correlation_key = message.correlation_key
        instance.message_name = message.name
        message.correlated_processes.append(bpmn_process_id)
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
                self._mark("message", message)
                return
