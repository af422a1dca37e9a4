"""The executable process model the deployment builds from BPMN XML."""

from __future__ import annotations

from dataclasses import dataclass, field

from localzeebe.feel import Expression


@dataclass(frozen=True)
class Mapping:
    source: Expression
    target: str


@dataclass
class SequenceFlow:
    id: str
    source: str
    target: str
    condition: Expression | None
    line: int


@dataclass
class Element:
    """One flow node. Fields not relevant to the element's type stay at their defaults."""

    id: str
    type: str  # startEvent, endEvent, serviceTask, exclusiveGateway, boundaryEvent, intermediateCatchEvent
    line: int
    event: str = "none"  # none, message, error, timer
    outgoing: list[SequenceFlow] = field(default_factory=list)
    inputs: list[Mapping] = field(default_factory=list)
    outputs: list[Mapping] = field(default_factory=list)
    job_type: Expression | None = None
    job_retries: Expression | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message_name: str | None = None
    correlation_key: Expression | None = None  # message boundary events: evaluated when the task activates
    error_code: Expression | None = None  # thrown code (end event) or caught code (None = catch all)
    attached_to: str | None = None
    interrupting: bool = True
    timer_duration: Expression | None = None
    default_flow: str | None = None
    boundary_events: list[Element] = field(default_factory=list)


@dataclass
class Process:
    bpmn_process_id: str
    elements: dict[str, Element]
    none_start: str | None
    message_starts: dict[str, str]  # message name -> start event id
    # The process's `name` attribute and its `zeebe:versionTag` (Zeebe 8.6+), as the REST API shows them.
    name: str | None = None
    version_tag: str | None = None

    def element(self, element_id: str) -> Element:
        return self.elements[element_id]
