"""The process model agrees with the names the code uses (fulfillment.workflow) and its own conventions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Final

import pytest

from fulfillment.workflow import BPMN_PATH, MESSAGE_NAME, PROCESS_ID, BpmnErrorCode, JobType, WorkflowStatus
from worker_job.failure import DETAIL_VARIABLE
from worker_job.tasks import MODEL_RETRIES

NS: Final = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "zeebe": "http://camunda.org/schema/zeebe/1.0",
    "modeler": "http://camunda.org/schema/modeler/1.0",
}
STEP_TIMEOUT: Final = "PT15M"


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


def test_process_is_executable_for_camunda_8_5(root: ET.Element, process: ET.Element) -> None:
    assert process.attrib["id"] == PROCESS_ID
    assert process.attrib["isExecutable"] == "true"
    assert root.attrib[f"{{{NS['modeler']}}}executionPlatformVersion"].startswith("8.5")


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


def test_job_types_are_the_workers_and_all_have_the_retries_the_worker_assumes(process: ET.Element) -> None:
    tasks = process.findall("bpmn:serviceTask", NS)

    assert {job_type(task) for task in tasks} == {member.value for member in JobType}
    for task in tasks:
        definition = task.find("bpmn:extensionElements/zeebe:taskDefinition", NS)
        assert definition is not None
        assert definition.attrib["retries"] == str(MODEL_RETRIES), task.attrib["id"]


def test_main_path_runs_payment_inventory_notification_in_order(process: ET.Element) -> None:
    elements = by_id(process)
    flows = {f.attrib["sourceRef"]: f.attrib["targetRef"] for f in process.findall("bpmn:sequenceFlow", NS)}
    (start,) = process.findall("bpmn:startEvent", NS)
    path, node = [], start.attrib["id"]
    while node in flows:
        node = flows[node]
        path.append(elements[node])

    assert [job_type(e) for e in path[:-1]] == ["verify-payment", "reserve-inventory", "send-notification"]
    assert path[-1].tag == f"{{{NS['bpmn']}}}endEvent"
    assert path[-1].attrib["name"] == "Order fulfilled"


@pytest.mark.parametrize(
    ("guarded_job", "error_code", "status"),
    [
        ("verify-payment", BpmnErrorCode.PAYMENT_NOT_AUTHORIZED, WorkflowStatus.PAYMENT_FAILED),
        ("reserve-inventory", BpmnErrorCode.STOCK_MISSING, WorkflowStatus.OUT_OF_STOCK),
    ],
)
def test_business_errors_lead_to_fail_order_with_their_status(
    root: ET.Element, process: ET.Element, guarded_job: str, error_code: str, status: WorkflowStatus
) -> None:
    errors = {e.attrib["id"]: e.attrib["errorCode"] for e in root.findall("bpmn:error", NS)}
    elements = by_id(process)
    boundaries = [
        b
        for b in process.findall("bpmn:boundaryEvent", NS)
        if (definition := b.find("bpmn:errorEventDefinition", NS)) is not None
        and errors[definition.attrib["errorRef"]] == error_code
    ]

    assert len(boundaries) == 1
    assert job_type(elements[boundaries[0].attrib["attachedToRef"]]) == guarded_job
    handler = target_of_boundary(process, boundaries[0].attrib["id"])
    assert job_type(handler) == "fail-order"
    assert inputs(handler)["failure_status"] == f'="{status.value}"'
    assert inputs(handler)["failure_reason"].startswith('="')
    # Zeebe creates the variables thrown with the error in the catch event's local scope: only an output
    # mapping carries the cause on to fail-order.
    assert outputs(boundaries[0]) == {DETAIL_VARIABLE: f"={DETAIL_VARIABLE}"}


def test_error_codes_are_the_workers(root: ET.Element) -> None:
    codes = {e.attrib["errorCode"] for e in root.findall("bpmn:error", NS)}

    assert codes == {member.value for member in BpmnErrorCode}


def test_a_hanging_inventory_step_times_out_into_the_failed_path(process: ET.Element) -> None:
    elements = by_id(process)
    (timer,) = [
        b for b in process.findall("bpmn:boundaryEvent", NS) if b.find("bpmn:timerEventDefinition", NS)
    ]

    assert timer.attrib.get("cancelActivity", "true") == "true"
    assert job_type(elements[timer.attrib["attachedToRef"]]) == "reserve-inventory"
    duration = timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS)
    assert duration is not None
    assert duration.text == STEP_TIMEOUT
    handler = target_of_boundary(process, timer.attrib["id"])
    assert inputs(handler)["failure_status"] == '="failed"'


def test_every_failure_status_in_the_model_is_a_terminal_failure(process: ET.Element) -> None:
    statuses = {
        WorkflowStatus(inputs(task)["failure_status"].strip('="'))
        for task in process.findall("bpmn:serviceTask", NS)
        if job_type(task) == "fail-order"
    }

    assert statuses == {WorkflowStatus.PAYMENT_FAILED, WorkflowStatus.OUT_OF_STOCK, WorkflowStatus.FAILED}


def test_every_element_is_named_and_drawn(root: ET.Element, process: ET.Element) -> None:
    drawn = {shape.attrib["bpmnElement"] for shape in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    drawn |= {edge.attrib["bpmnElement"] for edge in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    nodes = [e for e in process if e.tag != f"{{{NS['bpmn']}}}documentation"]

    for element in nodes:
        assert element.attrib["id"] in drawn, element.attrib["id"]
        if not element.tag.endswith("sequenceFlow"):
            assert element.attrib.get("name"), element.attrib["id"]
