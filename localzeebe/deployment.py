"""BPMN deployment: parse and validate a resource into Process models, refusing what is not supported.

Every refusal names the element id and the line, so nothing outside the subset is silently skipped.
"""

from __future__ import annotations

from typing import Final

from localzeebe.bpmn_xml import BPMN, XSI, ZEEBE, XmlError, XmlNode, parse_xml
from localzeebe.feel import Expression, FeelError
from localzeebe.model import Element, Mapping, Process, SequenceFlow
from localzeebe.timer import DurationError, parse_interval

FLOW_NODES = {
    "startEvent",
    "endEvent",
    "serviceTask",
    "exclusiveGateway",
    "boundaryEvent",
    "intermediateCatchEvent",
}
IGNORED_IN_PROCESS = {"laneSet", "documentation", "extensionElements", "textAnnotation", "association"}
IGNORED_IN_DEFINITIONS = {"documentation", "extensionElements", "collaboration", "itemDefinition"}
NODE_CHILDREN = {"incoming", "outgoing", "documentation", "extensionElements"}
EVENT_DEFINITIONS = {
    "messageEventDefinition": "message",
    "errorEventDefinition": "error",
    "timerEventDefinition": "timer",
}
SUPPORTED_EVENTS = {
    "startEvent": {"none", "message"},
    "endEvent": {"none", "error"},
    "boundaryEvent": {"error", "timer", "message"},
    "intermediateCatchEvent": {"timer"},
}


class DeploymentError(ValueError):
    """The resource cannot be deployed; the message names the element and the line."""


# Attributes some modelers still offer on error events; Zeebe ignores them since 8.2.
IGNORED_BY_ZEEBE: Final = ("errorCodeVariable", "errorMessageVariable")


def _refuse(node: XmlNode, reason: str) -> DeploymentError:
    element_id = node.attr("id")
    where = f"element '{element_id}'" if element_id else f"<{node.tag}>"
    return DeploymentError(f"{where} (line {node.line}): {reason}")


def _expression(node: XmlNode, text: str, what: str) -> Expression:
    try:
        return Expression.parse(text)
    except FeelError as error:
        raise _refuse(node, f"{what} {text!r} is outside the supported FEEL subset: {error}") from None


class _DefinitionsReader:
    def __init__(self, root: XmlNode) -> None:
        if root.namespace != BPMN or root.tag != "definitions":
            raise DeploymentError(f"<{root.tag}> (line {root.line}): expected BPMN <definitions>")
        self.root = root
        self.messages: dict[str, str | None] = {}
        self.correlation_keys: dict[str, str | None] = {}  # message id -> zeebe:subscription correlationKey
        self.errors: dict[str, str | None] = {}
        for child in root.children:
            self._read_definition(child)

    def _read_definition(self, node: XmlNode) -> None:
        if node.namespace != BPMN or node.tag in IGNORED_IN_DEFINITIONS or node.tag == "process":
            return
        if node.tag == "message":
            message_id = node.attr("id") or ""
            self.messages[message_id] = node.attr("name")
            extensions = node.first(BPMN, "extensionElements")
            subscription = extensions.first(ZEEBE, "subscription") if extensions is not None else None
            self.correlation_keys[message_id] = subscription.attr("correlationKey") if subscription else None
        elif node.tag == "error":
            self.errors[node.attr("id") or ""] = node.attr("errorCode")
        else:
            raise _refuse(node, f"unsupported BPMN definition <{node.tag}>")

    def processes(self) -> list[Process]:
        executable = [
            node
            for node in self.root.elements(BPMN, "process")
            if (node.attr("isExecutable") or "false").lower() == "true"
        ]
        if not executable:
            raise DeploymentError("the resource contains no executable process (isExecutable='true')")
        return [_ProcessReader(self, node).read() for node in executable]


class _ProcessReader:
    def __init__(self, definitions: _DefinitionsReader, node: XmlNode) -> None:
        self.definitions = definitions
        self.node = node
        self.elements: dict[str, Element] = {}
        self.nodes: dict[str, XmlNode] = {}
        self.flows: list[tuple[XmlNode, SequenceFlow]] = []

    def read(self) -> Process:
        process_id = self.node.attr("id")
        if not process_id:
            raise _refuse(self.node, "a process needs an id")
        for child in self.node.children:
            self._read_child(child)
        self._link_flows()
        self._attach_boundaries()
        for element in self.elements.values():
            self._check_element(element)
        return self._build(process_id)

    def _read_child(self, child: XmlNode) -> None:
        if child.namespace == BPMN and child.tag == "extensionElements":
            self._check_process_extensions(child)
        if child.namespace != BPMN or child.tag in IGNORED_IN_PROCESS:
            return
        if child.tag == "sequenceFlow":
            self.flows.append((child, self._read_flow(child)))
            return
        if child.tag not in FLOW_NODES:
            raise _refuse(child, f"unsupported BPMN element <{child.tag}>")
        element_id = child.attr("id")
        if not element_id:
            raise _refuse(child, "the element has no id")
        if element_id in self.elements:
            raise _refuse(child, "duplicate element id")
        self.elements[element_id] = self._read_node(child, element_id)
        self.nodes[element_id] = child

    def _check_process_extensions(self, extensions: XmlNode) -> None:
        for extension in extensions.elements(ZEEBE):
            if extension.tag not in {"properties", "versionTag"}:
                raise DeploymentError(
                    f"element '{self.node.attr('id')}' (line {extension.line}): "
                    f"unsupported extension <zeebe:{extension.tag}> on <process>"
                )

    def _version_tag(self) -> str | None:
        """The process's `zeebe:versionTag` value. Zeebe refuses a second one ("Must have exactly one
        'zeebe:versionTag' extension element when exists.", ExtensionElementDuplicationValidators), and its
        `value` attribute is required (ZeebeVersionTagImpl)."""
        extensions = self.node.first(BPMN, "extensionElements")
        tags = list(extensions.elements(ZEEBE, "versionTag")) if extensions is not None else []
        if len(tags) > 1:
            raise _refuse(
                self.node, "Must have exactly one 'zeebe:versionTag' extension element when exists."
            )
        if not tags:
            return None
        value = tags[0].attr("value")
        if not value:
            raise _refuse(self.node, "zeebe:versionTag needs a value")
        return value

    def _read_flow(self, node: XmlNode) -> SequenceFlow:
        condition_node = node.first(BPMN, "conditionExpression")
        condition = None
        if condition_node is not None:
            text = condition_node.text.strip()
            if not text.startswith("="):
                raise _refuse(node, f"a condition must be a FEEL expression starting with '=': {text!r}")
            condition = _expression(node, text, "condition")
        return SequenceFlow(
            id=node.attr("id") or "",
            source=node.attr("sourceRef") or "",
            target=node.attr("targetRef") or "",
            condition=condition,
            line=node.line,
        )

    def _read_node(self, node: XmlNode, element_id: str) -> Element:
        for child in node.children:
            allowed = NODE_CHILDREN | set(EVENT_DEFINITIONS)
            if child.namespace == BPMN and child.tag not in allowed:
                raise _refuse(node, f"unsupported child <{child.tag}> of <{node.tag}>")
        element = Element(id=element_id, type=node.tag, line=node.line)
        self._read_event_definition(node, element)
        self._read_extensions(node, element)
        if node.tag == "boundaryEvent":
            element.attached_to = node.attr("attachedToRef")
            element.interrupting = (node.attr("cancelActivity") or "true").lower() != "false"
        if node.tag == "exclusiveGateway":
            element.default_flow = node.attr("default")
        return element

    def _read_event_definition(self, node: XmlNode, element: Element) -> None:
        definitions = [
            child for child in node.children if child.namespace == BPMN and "Definition" in child.tag
        ]
        if len(definitions) > 1:
            raise _refuse(node, "multiple event definitions are not supported")
        if not definitions:
            if node.tag in {"boundaryEvent", "intermediateCatchEvent"}:
                raise _refuse(node, f"a <{node.tag}> needs an event definition")
            return
        definition = definitions[0]
        kind = EVENT_DEFINITIONS.get(definition.tag)
        if kind is None or kind not in SUPPORTED_EVENTS.get(node.tag, set()):
            raise _refuse(node, f"unsupported event definition <{definition.tag}> on <{node.tag}>")
        element.event = kind
        if kind == "message":
            element.message_name = self._message_name(node, definition)
            if node.tag == "boundaryEvent":
                element.correlation_key = self._correlation_key(node, definition)
        elif kind == "error":
            self._read_error(node, definition, element)
        else:
            element.timer_duration = self._timer_duration(node, definition)

    def _message_name(self, node: XmlNode, definition: XmlNode) -> str:
        name = self.definitions.messages.get(definition.attr("messageRef") or "")
        if not name:
            raise _refuse(node, "a message event needs a messageRef to a message with a name")
        if name.startswith("="):
            raise _refuse(node, "a message event needs a static message name")
        return name

    def _correlation_key(self, node: XmlNode, definition: XmlNode) -> Expression:
        key = self.definitions.correlation_keys.get(definition.attr("messageRef") or "")
        if not key or not key.strip():
            raise _refuse(node, "a message catch event needs <zeebe:subscription correlationKey=...>")
        return _expression(node, key.strip(), "correlation key")

    def _read_error(self, node: XmlNode, definition: XmlNode, element: Element) -> None:
        error_ref = definition.attr("errorRef")
        code = self.definitions.errors.get(error_ref) if error_ref else None
        if error_ref and error_ref not in self.definitions.errors:
            raise _refuse(node, f"errorRef {error_ref!r} names no <error>")
        if node.tag == "endEvent" and not code:
            raise _refuse(node, "an error end event needs an errorRef to an <error> with an errorCode")
        if node.tag == "boundaryEvent" and code and code.startswith("="):
            raise _refuse(node, "an error catch event needs a static errorCode")
        element.error_code = _expression(node, code, "errorCode") if code else None
        for source in (definition, node):
            for attribute in IGNORED_BY_ZEEBE:
                if source.attr(attribute, ZEEBE) is not None:
                    raise _refuse(
                        node,
                        f"zeebe:{attribute} is not a Zeebe feature (Zeebe 8.2+ ignores it, so a model "
                        "relying on it breaks silently on Camunda 8): throw the code and message as "
                        "variables and map them with an output mapping on the catch event",
                    )

    def _timer_duration(self, node: XmlNode, definition: XmlNode) -> Expression:
        duration = definition.first(BPMN, "timeDuration")
        if duration is None:
            raise _refuse(node, "only timer events with a timeDuration are supported (no timeDate/timeCycle)")
        text = duration.text.strip()
        expression = _expression(node, text, "timer duration")
        if expression.is_static:  # Zeebe's TimerCatchEventExpressionValidator checks static ones at deploy
            try:
                parse_interval(text)
            except DurationError as error:
                raise _refuse(node, f"invalid timer duration expression ({error})") from None
        return expression

    def _read_extensions(self, node: XmlNode, element: Element) -> None:
        extensions = node.first(BPMN, "extensionElements")
        if extensions is None:
            return
        for extension in extensions.elements(ZEEBE):
            if extension.tag == "taskDefinition" and node.tag == "serviceTask":
                self._read_task_definition(node, extension, element)
            elif extension.tag == "taskHeaders" and node.tag == "serviceTask":
                for header in extension.elements(ZEEBE, "header"):
                    element.headers[header.attr("key") or ""] = header.attr("value") or ""
            elif extension.tag == "ioMapping":
                self._read_io_mapping(node, extension, element)
            elif extension.tag != "properties":
                raise _refuse(node, f"unsupported extension <zeebe:{extension.tag}> on <{node.tag}>")

    def _read_task_definition(self, node: XmlNode, definition: XmlNode, element: Element) -> None:
        job_type = definition.attr("type") or ""
        if not job_type.strip():
            raise _refuse(node, "zeebe:taskDefinition needs a type")
        element.job_type = _expression(node, job_type, "job type")
        retries = (definition.attr("retries") or "3").strip()
        if not retries.startswith("=") and not (retries.isascii() and retries.isdigit()):
            raise _refuse(node, f"retries must be a number or a FEEL expression: {retries!r}")
        element.job_retries = _expression(node, retries, "retries")

    def _read_io_mapping(self, node: XmlNode, io_mapping: XmlNode, element: Element) -> None:
        for mapping_node in io_mapping.elements(ZEEBE):
            target = (mapping_node.attr("target") or "").strip()
            source = mapping_node.attr("source") or ""
            if mapping_node.tag not in {"input", "output"} or not target:
                raise _refuse(node, f"invalid <zeebe:{mapping_node.tag}> in ioMapping")
            if not all(part.isidentifier() for part in target.split(".")):
                raise _refuse(node, f"mapping target {target!r} must be a variable name or path")
            mapping = Mapping(_expression(node, source, "mapping source"), target)
            if mapping_node.tag == "input":
                if node.tag != "serviceTask":
                    raise _refuse(node, f"input mappings are not supported on <{node.tag}>")
                element.inputs.append(mapping)
            else:
                if node.tag not in {"serviceTask", "startEvent", "boundaryEvent"}:
                    raise _refuse(node, f"output mappings are not supported on <{node.tag}>")
                element.outputs.append(mapping)

    def _link_flows(self) -> None:
        for node, flow in self.flows:
            if flow.source not in self.elements or flow.target not in self.elements:
                raise _refuse(node, "the sequence flow's sourceRef/targetRef names no supported element")
            source = self.elements[flow.source]
            if flow.condition is not None and source.type != "exclusiveGateway":
                raise _refuse(node, "conditions are only supported on flows leaving an exclusive gateway")
            source.outgoing.append(flow)

    def _attach_boundaries(self) -> None:
        for element in self.elements.values():
            if element.type != "boundaryEvent":
                continue
            host = self.elements.get(element.attached_to or "")
            if host is None or host.type != "serviceTask":
                raise _refuse(self.nodes[element.id], "a boundary event must be attached to a service task")
            if element.event in {"error", "message"} and not element.interrupting:
                article = "an" if element.event == "error" else "a"
                reason = f"{article} {element.event} boundary event must be interrupting"
                raise _refuse(self.nodes[element.id], reason)
            host.boundary_events.append(element)

    def _check_element(self, element: Element) -> None:
        node = self.nodes[element.id]
        if element.type == "serviceTask" and element.job_type is None:
            raise _refuse(node, "a service task needs <zeebe:taskDefinition type=...>")
        if element.type == "exclusiveGateway":
            self._check_gateway(node, element)
        if element.type == "endEvent" and element.outgoing:
            raise _refuse(node, "an end event cannot have outgoing sequence flows")
        if element.type in {"boundaryEvent", "intermediateCatchEvent"} and not element.outgoing:
            raise _refuse(node, f"a <{element.type}> needs an outgoing sequence flow")

    def _check_gateway(self, node: XmlNode, element: Element) -> None:
        flow_ids = {flow.id for flow in element.outgoing}
        if element.default_flow and element.default_flow not in flow_ids:
            raise _refuse(node, f"default flow {element.default_flow!r} is not an outgoing flow")
        if not element.outgoing:
            raise _refuse(node, "an exclusive gateway needs at least one outgoing flow")
        for flow in element.outgoing:
            if flow.id == element.default_flow and flow.condition is not None:
                raise _refuse(node, f"the default flow {flow.id!r} cannot have a condition")
            needs_condition = len(element.outgoing) > 1 and flow.id != element.default_flow
            if needs_condition and flow.condition is None:
                raise _refuse(node, f"outgoing flow {flow.id!r} needs a condition (or be the default)")

    def _build(self, process_id: str) -> Process:
        starts = [e for e in self.elements.values() if e.type == "startEvent"]
        none_starts = [e.id for e in starts if e.event == "none"]
        if not starts:
            raise _refuse(self.node, "a process needs a start event")
        if len(none_starts) > 1:
            raise _refuse(self.node, "a process can have at most one none start event")
        message_starts: dict[str, str] = {}
        for start in starts:
            if start.message_name is None:
                continue
            if start.message_name in message_starts:
                raise _refuse(self.nodes[start.id], f"duplicate message start {start.message_name!r}")
            message_starts[start.message_name] = start.id
        return Process(
            process_id,
            self.elements,
            none_starts[0] if none_starts else None,
            message_starts,
            name=self.node.attr("name"),
            version_tag=self._version_tag(),
        )


def parse_resource(content: bytes) -> list[Process]:
    """Parse a .bpmn resource into its executable processes or raise DeploymentError."""
    try:
        root = parse_xml(content)
    except XmlError as error:
        raise DeploymentError(str(error)) from None
    return _DefinitionsReader(root).processes()


__all__ = ["XSI", "DeploymentError", "parse_resource"]
