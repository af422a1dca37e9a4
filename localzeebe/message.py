"""Buffered messages, their message-id index, and the one-active-instance-per-correlation-key locks."""

from __future__ import annotations

from collections.abc import Iterator

from localzeebe.state import Message


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
