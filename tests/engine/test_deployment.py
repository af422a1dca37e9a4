"""BPMN parsing and validation: the supported subset becomes a model, anything else is refused by line."""

from __future__ import annotations

import pytest

from localzeebe.deployment import DeploymentError, parse_resource

from .support import (
    definitions,
    end,
    error,
    error_boundary,
    flow,
    gateway,
    message,
    start,
    task,
    timer_boundary,
)


def test_parses_the_supported_subset_into_a_model() -> None:
    body = (
        start("placed", "m")
        + task("pay", "pay-card", "=3", {"kind": "card"}, '<zeebe:input source="=order.id" target="id" />')
        + error_boundary("declined", "pay", "e")
        + timer_boundary("late", "pay", "PT1S", interrupting=False)
        + gateway("ok", default="no")
        + end("done")
        + end("failed", "e")
        + end("late_end")
        + end("declined_end")
        + flow("f1", "placed", "pay")
        + flow("f2", "pay", "ok")
        + flow("yes", "ok", "done", "=paid = true")
        + flow("no", "ok", "failed")
        + flow("f3", "late", "late_end")
        + flow("f4", "declined", "declined_end")
    )
    [process] = parse_resource(
        definitions("order", body, message("m", "order-received") + error("e", "DECLINED"))
    )

    assert process.bpmn_process_id == "order"
    assert process.none_start is None
    assert process.message_starts == {"order-received": "placed"}
    pay = process.element("pay")
    assert pay.headers == {"kind": "card"}
    assert [m.target for m in pay.inputs] == ["id"]
    assert [(b.id, b.event, b.interrupting) for b in pay.boundary_events] == [
        ("declined", "error", True),
        ("late", "timer", False),
    ]
    assert process.element("declined").error_code is not None
    assert process.element("ok").default_flow == "no"
    assert [f.id for f in process.element("ok").outgoing] == ["yes", "no"]


def _simple(extra_body: str, extra_flows: str = "") -> bytes:
    body = start() + task("t", "job") + end() + flow("f1", "start", "t") + flow("f2", "t", "end")
    return definitions("p", body + extra_body + extra_flows)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            _simple('\n<bpmn:parallelGateway id="fork" />'),
            "element 'fork' (line 13): unsupported BPMN element",
        ),
        (
            _simple('\n<bpmn:scriptTask id="script" />'),
            "element 'script' (line 13): unsupported BPMN element",
        ),
        (
            _simple('\n<bpmn:intermediateCatchEvent id="wait" />'),
            "element 'wait' (line 13): a <intermediateCatchEvent> needs an event definition",
        ),
        (
            _simple(
                '\n<bpmn:startEvent id="tick"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1S'
                "</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>"
            ),
            "element 'tick' (line 13): unsupported event definition <timerEventDefinition> on <startEvent>",
        ),
        (
            _simple(
                '\n<bpmn:boundaryEvent id="tick" attachedToRef="t"><bpmn:timerEventDefinition>'
                "<bpmn:timeCycle>R/PT1S</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
            ),
            "element 'tick' (line 13): only timer events with a timeDuration",
        ),
        (
            _simple("\n" + timer_boundary("tick", "t", "P1Y2")),
            "element 'tick' (line 13): invalid timer duration expression (Invalid duration format 'P1Y2')",
        ),
        (
            _simple('\n<bpmn:serviceTask id="bare" />'),
            "element 'bare' (line 13): a service task needs <zeebe:taskDefinition",
        ),
        (
            _simple(
                '\n<bpmn:serviceTask id="loop"><bpmn:multiInstanceLoopCharacteristics /></bpmn:serviceTask>'
            ),
            "element 'loop' (line 13): unsupported child <multiInstanceLoopCharacteristics>",
        ),
        (
            _simple(
                '\n<bpmn:serviceTask id="listen"><bpmn:extensionElements><zeebe:taskDefinition type="x" />'
                "<zeebe:executionListeners /></bpmn:extensionElements></bpmn:serviceTask>"
            ),
            "element 'listen' (line 13): unsupported extension <zeebe:executionListeners>",
        ),
        (
            _simple("\n" + task("cond", "x") + end("e2"), "\n" + flow("fx", "cond", "e2", "=a > 1")),
            "conditions are only supported on flows leaving an exclusive gateway",
        ),
        (
            _simple(
                "\n" + gateway("g") + end("e2") + end("e3"),
                "\n" + flow("ga", "g", "e2", "=count(x) > 1") + flow("gb", "g", "e3"),
            ),
            "unsupported FEEL function 'count'",
        ),
        (
            _simple(
                "\n" + gateway("g") + end("e2") + end("e3"),
                "\n" + flow("ga", "g", "e2", "=a > 1") + flow("gb", "g", "e3"),
            ),
            "element 'g' (line 13): outgoing flow 'gb' needs a condition",
        ),
        (
            _simple('\n<bpmn:endEvent id="err"><bpmn:errorEventDefinition /></bpmn:endEvent>'),
            "element 'err' (line 13): an error end event needs an errorRef",
        ),
        (
            _simple(
                '\n<bpmn:boundaryEvent id="soft" attachedToRef="t" cancelActivity="false">'
                "<bpmn:errorEventDefinition /></bpmn:boundaryEvent>" + end("e2"),
                flow("fs", "soft", "e2"),
            ),
            "element 'soft' (line 13): an error boundary event must be interrupting",
        ),
        (
            _simple('\n<bpmn:task id="t2" />'),
            "element 't2' (line 13): unsupported BPMN element <task>",
        ),
        (
            _simple("\n" + task("odd", "x", retries="\u00b2")),
            "element 'odd' (line 13): retries must be a number or a FEEL expression",
        ),
        (
            _simple(
                "\n<bpmn:extensionElements><zeebe:executionListeners /><zeebe:properties />"
                "</bpmn:extensionElements>"
            ),
            "element 'p' (line 13): unsupported extension <zeebe:executionListeners> on <process>",
        ),
        (definitions("p", start(), executable=False), "no executable process"),
        (b"<bpmn:definitions", "not well-formed XML"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x "boom">]>\n<d>&x;</d>',
            "DOCTYPE declarations are not allowed (line 2)",
        ),
    ],
)
def test_refuses_unsupported_bpmn_naming_the_element_and_line(resource: bytes, expected: str) -> None:
    with pytest.raises(DeploymentError) as refused:
        parse_resource(resource)
    assert expected in str(refused.value)
