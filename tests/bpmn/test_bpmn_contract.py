"""The process model agrees with the names the code uses (fulfillment.workflow) and its own conventions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Final

import pytest

from fulfillment.process_model import VersionTag, handled_model
from fulfillment.workflow import (
    BPMN_PATH,
    CANCELED_MESSAGE_NAME,
    MESSAGE_NAME,
    PROCESS_ID,
    BpmnErrorCode,
    JobType,
    WorkflowStatus,
)
from worker_job.fail_order import DETAIL_VARIABLE

DOCS: Final = Path(__file__).resolve().parents[2] / "docs" / "order-fulfillment.md"

NS: Final = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "zeebe": "http://camunda.org/schema/zeebe/1.0",
    "modeler": "http://camunda.org/schema/modeler/1.0",
}


@pytest.fixture(scope="module")
def root() -> ET.Element:
    return ET.parse(BPMN_PATH).getroot()  # noqa: S314 - the repository's own model, not untrusted input


@pytest.fixture(scope="module")
def process(root: ET.Element) -> ET.Element:
    found = root.find("bpmn:process", NS)
    assert found is not None
    return found


def by_id(process: ET.Element) -> dict[str, ET.Element]:
    return {element.attrib["id"]: element for element in process if "id" in element.attrib}


def job_type(task: ET.Element) -> str:
    definition = task.find("bpmn:extensionElements/zeebe:taskDefinition", NS)
    assert definition is not None, task.attrib["id"]
    return definition.attrib["type"]


def inputs(task: ET.Element) -> dict[str, str]:
    return {
        item.attrib["target"]: item.attrib["source"]
        for item in task.findall("bpmn:extensionElements/zeebe:ioMapping/zeebe:input", NS)
    }


def outputs(element: ET.Element) -> dict[str, str]:
    return {
        item.attrib["target"]: item.attrib["source"]
        for item in element.findall("bpmn:extensionElements/zeebe:ioMapping/zeebe:output", NS)
    }


def target_of_boundary(process: ET.Element, boundary_id: str) -> ET.Element:
    flows = [f for f in process.findall("bpmn:sequenceFlow", NS) if f.attrib["sourceRef"] == boundary_id]
    assert len(flows) == 1, boundary_id
    return by_id(process)[flows[0].attrib["targetRef"]]


def test_process_is_executable_for_camunda_8_8(root: ET.Element, process: ET.Element) -> None:
    assert process.attrib["id"] == PROCESS_ID
    assert process.attrib["isExecutable"] == "true"
    # 8.8: the REST API's searches that the deploy step, the worker's start check and the incident checker
    # use (the version tag itself needs 8.6).
    assert root.attrib[f"{{{NS['modeler']}}}executionPlatformVersion"].startswith("8.8")


def test_the_process_carries_a_version_tag_of_dotted_numbers(process: ET.Element) -> None:
    tags = process.findall("bpmn:extensionElements/zeebe:versionTag", NS)

    assert len(tags) == 1
    assert VersionTag.parse(tags[0].attrib["value"]) == handled_model().version_tag


def test_started_by_the_order_placed_message_keyed_by_order_id(root: ET.Element, process: ET.Element) -> None:
    (start,) = process.findall("bpmn:startEvent", NS)
    definition = start.find("bpmn:messageEventDefinition", NS)
    assert definition is not None
    message = root.find(f"bpmn:message[@id='{definition.attrib['messageRef']}']", NS)
    assert message is not None
    assert message.attrib["name"] == MESSAGE_NAME
    subscription = message.find("bpmn:extensionElements/zeebe:subscription", NS)
    assert subscription is not None
    assert subscription.attrib["correlationKey"] == "=order_id"


def test_job_types_are_the_workers_and_all_have_five_retries(process: ET.Element) -> None:
    tasks = process.findall("bpmn:serviceTask", NS)

    assert {job_type(task) for task in tasks} == {member.value for member in JobType}
    for task in tasks:
        definition = task.find("bpmn:extensionElements/zeebe:taskDefinition", NS)
        assert definition is not None
        assert definition.attrib["retries"] == "5", task.attrib["id"]


def test_main_path_runs_payment_inventory_notification_in_order(process: ET.Element) -> None:
    elements = by_id(process)
    flows = {f.attrib["sourceRef"]: f.attrib["targetRef"] for f in process.findall("bpmn:sequenceFlow", NS)}
    default = {g.attrib["id"]: g.attrib.get("default") for g in process.findall("bpmn:exclusiveGateway", NS)}
    by_flow = {f.attrib["id"]: f.attrib["targetRef"] for f in process.findall("bpmn:sequenceFlow", NS)}
    (start,) = process.findall("bpmn:startEvent", NS)
    path, node = [], start.attrib["id"]
    while node in flows:
        # A gateway's main path is its default flow (the other one waits for the payment).
        gateway_default = default.get(node)
        node = by_flow[gateway_default] if gateway_default else flows[node]
        path.append(elements[node])

    tasks = [job_type(e) for e in path if e.tag == f"{{{NS['bpmn']}}}serviceTask"]
    assert tasks == ["verify-payment", "reserve-inventory", "send-notification"]
    assert path[-1].tag == f"{{{NS['bpmn']}}}endEvent"
    assert path[-1].attrib["name"] == "Order fulfilled"


def error_boundaries(root: ET.Element, process: ET.Element, error_code: str) -> list[ET.Element]:
    errors = {e.attrib["id"]: e.attrib["errorCode"] for e in root.findall("bpmn:error", NS)}
    return [
        b
        for b in process.findall("bpmn:boundaryEvent", NS)
        if (definition := b.find("bpmn:errorEventDefinition", NS)) is not None
        and errors[definition.attrib["errorRef"]] == error_code
    ]


def headers(task: ET.Element) -> dict[str, str]:
    return {
        h.attrib["key"]: h.attrib["value"]
        for h in task.findall("bpmn:extensionElements/zeebe:taskHeaders/zeebe:header", NS)
    }


def test_a_payment_failure_cancels_the_order_in_medusa_and_tells_the_customer(
    root: ET.Element, process: ET.Element
) -> None:
    (boundary,) = error_boundaries(root, process, BpmnErrorCode.PAYMENT_NOT_AUTHORIZED)
    assert job_type(by_id(process)[boundary.attrib["attachedToRef"]]) == "verify-payment"
    handler = target_of_boundary(process, boundary.attrib["id"])
    assert job_type(handler) == "fail-order"
    assert inputs(handler)["failure_status"] == f'="{WorkflowStatus.PAYMENT_FAILED.value}"'
    assert headers(handler)["cancel_order"] == "true"
    assert headers(handler)["notify"] == "true"
    # Zeebe creates the variables thrown with the error in the catch event's local scope: only an output
    # mapping carries the cause on to fail-order.
    assert outputs(boundary) == {DETAIL_VARIABLE: f"={DETAIL_VARIABLE}"}


def test_missing_stock_follows_the_shops_policy_hold_by_default(
    root: ET.Element, process: ET.Element
) -> None:
    (boundary,) = error_boundaries(root, process, BpmnErrorCode.STOCK_MISSING)
    reserve = by_id(process)[boundary.attrib["attachedToRef"]]
    assert job_type(reserve) == "reserve-inventory"
    assert headers(reserve)["stock_policy"] == "hold"
    assert outputs(boundary) == {DETAIL_VARIABLE: f"={DETAIL_VARIABLE}", "stock_policy": "=stock_policy"}
    choice = target_of_boundary(process, boundary.attrib["id"])
    assert choice.tag == f"{{{NS['bpmn']}}}exclusiveGateway"
    flows = [
        f for f in process.findall("bpmn:sequenceFlow", NS) if f.attrib["sourceRef"] == choice.attrib["id"]
    ]
    hold = by_id(process)[
        next(f for f in flows if f.attrib["id"] == choice.attrib["default"]).attrib["targetRef"]
    ]
    cancel = by_id(process)[
        next(f for f in flows if f.attrib["id"] != choice.attrib["default"]).attrib["targetRef"]
    ]
    assert (headers(hold)["cancel_order"], headers(hold)["notify"]) == ("false", "false")
    assert (headers(cancel)["cancel_order"], headers(cancel)["notify"]) == ("true", "true")
    assert inputs(hold)["failure_status"] == inputs(cancel)["failure_status"] == '="out_of_stock"'


def test_error_codes_are_the_workers(root: ET.Element) -> None:
    codes = {e.attrib["errorCode"] for e in root.findall("bpmn:error", NS)}

    assert codes == {member.value for member in BpmnErrorCode}


def test_only_the_payment_wait_has_a_timer(process: ET.Element) -> None:
    timers = [e for e in process.iter() if e.tag == f"{{{NS['bpmn']}}}timerEventDefinition"]
    (wait,) = process.findall("bpmn:intermediateCatchEvent", NS)

    assert len(timers) == 1
    assert wait.find("bpmn:timerEventDefinition", NS) is timers[0]
    duration = timers[0].find("bpmn:timeDuration", NS)
    assert duration is not None
    assert duration.text == "=payment_recheck_interval"
    assert process.findall("bpmn:boundaryEvent/bpmn:timerEventDefinition", NS) == []


def canceled_message_id(root: ET.Element) -> str:
    message = root.find(f"bpmn:message[@name='{CANCELED_MESSAGE_NAME}']", NS)
    assert message is not None
    return message.attrib["id"]


def test_the_cancel_message_is_keyed_by_the_order_id(root: ET.Element) -> None:
    message = root.find(f"bpmn:message[@name='{CANCELED_MESSAGE_NAME}']", NS)
    assert message is not None
    subscription = message.find("bpmn:extensionElements/zeebe:subscription", NS)
    assert subscription is not None
    assert subscription.attrib["correlationKey"] == "=order_id"


def enclosing(process: ET.Element) -> dict[str, list[str]]:
    """Every flow node's id -> its own id and those of the subprocesses around it, innermost first."""
    chains: dict[str, list[str]] = {}

    def visit(scope: ET.Element, outer: list[str]) -> None:
        for element in scope:
            if "id" not in element.attrib or element.tag.endswith("sequenceFlow"):
                continue
            chains[element.attrib["id"]] = [element.attrib["id"], *outer]
            if element.tag == f"{{{NS['bpmn']}}}subProcess":
                visit(element, [element.attrib["id"], *outer])

    visit(process, [])
    return chains


def cancel_boundaries(root: ET.Element, process: ET.Element) -> dict[str, list[ET.Element]]:
    """Activity id -> the interrupting `order-canceled` boundaries on it or on a subprocess around it."""
    message_id = canceled_message_id(root)
    on: dict[str, list[ET.Element]] = {}
    for boundary in process.iter(f"{{{NS['bpmn']}}}boundaryEvent"):
        definition = boundary.find("bpmn:messageEventDefinition", NS)
        if definition is not None and definition.attrib["messageRef"] == message_id:
            on.setdefault(boundary.attrib["attachedToRef"], []).append(boundary)
    return {
        element: [b for scope in chain for b in on.get(scope, [])]
        for element, chain in enclosing(process).items()
    }


def documented_cancellation() -> dict[str, str]:
    """docs/order-fulfillment.md, "Cancellation at each step": element id -> what a cancel does there."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Cancellation at each step", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            for element in re.findall(r"`(\w+)`", cells[0]):
                rows[element] = cells[1]
    assert rows, "docs/order-fulfillment.md has no cancellation table"
    return rows


def test_every_step_and_wait_is_in_the_documented_cancellation_table(process: ET.Element) -> None:
    steps = {
        element.attrib["id"]
        for kind in ("serviceTask", "intermediateCatchEvent", "receiveTask", "userTask")
        for element in process.iter(f"{{{NS['bpmn']}}}{kind}")
    }
    assert set(documented_cancellation()) == steps


def test_the_cancel_boundaries_are_where_the_docs_say(root: ET.Element, process: ET.Element) -> None:
    boundaries = cancel_boundaries(root, process)
    elements = {e.attrib["id"]: e for e in process.iter() if "id" in e.attrib}
    for element, behaviour in documented_cancellation().items():
        named = re.fullmatch(r"boundary `(\w+)`", behaviour)
        found = [b.attrib["id"] for b in boundaries[element]]
        if named is None:
            assert found == [], f"{element}: the docs say {behaviour!r}, the model has {found}"
            continue
        assert found == [named.group(1)], f"{element}: the docs name {named.group(1)}, the model has {found}"
        (boundary,) = boundaries[element]
        assert boundary.attrib.get("cancelActivity", "true") == "true", f"{element}: not interrupting"
        assert recorded_after(process, boundary) == elements["RecordCanceled"]


def recorded_after(process: ET.Element, boundary: ET.Element) -> ET.Element:
    """The service task the boundary leads to, through the join of the cancel paths."""
    join = target_of_boundary(process, boundary.attrib["id"])
    (recorded,) = [
        by_id(process)[f.attrib["targetRef"]]
        for f in process.findall("bpmn:sequenceFlow", NS)
        if f.attrib["sourceRef"] == join.attrib["id"]
    ]
    assert job_type(recorded) == JobType.RECORD_CANCELED
    return recorded


def test_the_steps_that_cancel_in_medusa_themselves_have_no_cancel_boundary(
    root: ET.Element, process: ET.Element
) -> None:
    # Their own cancel in Medusa sends order-canceled back while the job records it (docs, "Cancellation").
    boundaries = cancel_boundaries(root, process)
    cancelling = [
        task.attrib["id"]
        for task in process.findall("bpmn:serviceTask", NS)
        if headers(task).get("cancel_order") == "true"
    ]
    assert sorted(cancelling) == ["FailOrderPayment", "FailOrderStock"]
    assert all(boundaries[task] == [] for task in cancelling)


def test_a_worker_that_reads_a_canceled_order_records_it_from_every_reading_step(
    root: ET.Element, process: ET.Element
) -> None:
    elements = by_id(process)
    steps = {"verify-payment", "reserve-inventory", "send-notification"}
    by_error = error_boundaries(root, process, BpmnErrorCode.ORDER_CANCELED)
    assert {job_type(elements[b.attrib["attachedToRef"]]) for b in by_error} == steps
    for boundary in by_error:
        assert boundary.attrib.get("cancelActivity", "true") == "true"
        recorded_after(process, boundary)


def test_every_failure_status_in_the_model_is_a_terminal_failure(process: ET.Element) -> None:
    statuses = {
        WorkflowStatus(inputs(task)["failure_status"].strip('="'))
        for task in process.findall("bpmn:serviceTask", NS)
        if job_type(task) == "fail-order"
    }

    assert statuses == {WorkflowStatus.PAYMENT_FAILED, WorkflowStatus.OUT_OF_STOCK}
    assert all(status.terminal for status in statuses)


def test_every_element_is_named_and_drawn(root: ET.Element, process: ET.Element) -> None:
    drawn = {shape.attrib["bpmnElement"] for shape in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    drawn |= {edge.attrib["bpmnElement"] for edge in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    not_drawn = {f"{{{NS['bpmn']}}}documentation", f"{{{NS['bpmn']}}}extensionElements"}
    nodes = [e for e in process if e.tag not in not_drawn]

    for element in nodes:
        assert element.attrib["id"] in drawn, element.attrib["id"]
        if not element.tag.endswith("sequenceFlow"):
            assert element.attrib.get("name"), element.attrib["id"]
