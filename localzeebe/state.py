"""Runtime records, named after Zeebe's: process definitions, instances, jobs, incidents, messages.

All records are plain dataclasses so the store can write them as JSON and read them back.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

Variables = dict[str, Any]

# Zeebe keys carry the partition id in the top bits: partition 1 starts at 2251799813685249.
PARTITION_ONE = 1 << 51


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class ProcessDefinition:
    key: int
    bpmn_process_id: str
    version: int
    resource_name: str
    checksum: str
    resource: str
    deployed_at: int


@dataclass
class ElementInstance:
    key: int
    element_id: str
    element_type: str
    variables: Variables = field(default_factory=dict)
    job_key: int | None = None
    incident_key: int | None = None
    # Boundary event id (or the element's own id for an intermediate timer catch event) -> due time (ms).
    timers: dict[str, int] = field(default_factory=dict)
    # Message boundary event id -> [message name, correlation key], open while the task is active.
    subscriptions: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ProcessInstance:
    key: int
    process_definition_key: int
    bpmn_process_id: str
    version: int
    state: str  # ACTIVE, COMPLETED, TERMINATED
    variables: Variables
    start_time: int
    end_time: int | None = None
    correlation_key: str | None = None
    message_name: str | None = None
    elements: dict[int, ElementInstance] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    incident_keys: list[int] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessInstance:
        elements = {int(key): ElementInstance(**value) for key, value in data.pop("elements").items()}
        return cls(**data, elements=elements)


@dataclass
class Job:
    key: int
    type: str
    process_instance_key: int
    element_instance_key: int
    element_id: str
    bpmn_process_id: str
    process_definition_key: int
    version: int
    retries: int
    custom_headers: str
    state: str = "ACTIVATABLE"  # ACTIVATABLE, ACTIVATED, FAILED, ERROR_THROWN, COMPLETED, CANCELED
    worker: str = ""
    deadline: int = 0
    backoff_until: int = 0
    error_message: str = ""


@dataclass
class Incident:
    key: int
    error_type: (
        str  # JOB_NO_RETRIES, UNHANDLED_ERROR_EVENT, CONDITION_ERROR, EXTRACT_VALUE_ERROR, IO_MAPPING_ERROR
    )
    error_message: str
    process_instance_key: int
    element_instance_key: int
    element_id: str
    bpmn_process_id: str
    job_key: int | None
    created: int
    state: str = "ACTIVE"  # ACTIVE, RESOLVED


@dataclass
class Message:
    key: int
    name: str
    correlation_key: str
    message_id: str
    variables: Variables
    published: int
    expires_at: int
    # The BPMN process ids this message was correlated to, by a start event or a catch event: Zeebe
    # correlates a message at most once per process, across its versions and instances (MessageState's
    # message correlations, written by MessageStartEventSubscriptionCorrelatedApplier and
    # MessageSubscriptionCorrelatingApplier).
    correlated_processes: list[str] = field(default_factory=list)


def to_dict(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)
