"""Conformance: every supported BPMN element behaves as in Zeebe, observed through the gateway API."""

from __future__ import annotations

import json

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb

from .support import (
    Gateway,
    Target,
    caught_error_process,
    definitions,
    end,
    error,
    error_boundary,
    eventually,
    expect_status,
    flow,
    gateway,
    start,
    task,
    timer_process,
    unique,
)

pytestmark = pytest.mark.contract


def _gateway_process(process_id: str, left: str, right: str, with_default: bool) -> bytes:
    body = (
        start()
        + gateway("choose", default="to_right" if with_default else None)
        + task("left", left)
        + task("right", right)
        + end("end_left")
        + end("end_right")
        + flow("f1", "start", "choose")
        + flow("to_left", "choose", "left", "=order.total >= 100 and not(order.flagged)")
        + flow("to_right", "choose", "right", None if with_default else "=order.total < 100")
        + flow("f2", "left", "end_left")
        + flow("f3", "right", "end_right")
    )
    return definitions(process_id, body)


@pytest.mark.parametrize(
    ("order", "expected"),
    [({"total": 150, "flagged": False}, "left"), ({"total": 150, "flagged": True}, "right")],
)
async def test_exclusive_gateway_takes_the_matching_flow_or_the_default(
    gateway: Gateway, order: dict[str, object], expected: str
) -> None:
    process_id, left, right = unique("xor"), unique("left"), unique("right")
    await gateway.deploy("p.bpmn", _gateway_process(process_id, left, right, with_default=True))
    await gateway.create(process_id, {"order": order})
    job = await gateway.activate_one(left if expected == "left" else right)
    assert job.elementId == expected


async def test_exclusive_gateway_without_match_or_default_raises_an_incident(
    gateway: Gateway, target: Target
) -> None:
    process_id, left, right = unique("xor"), unique("left"), unique("right")
    await gateway.deploy("p.bpmn", _gateway_process(process_id, left, right, with_default=False))
    instance_key = await gateway.create(process_id, {"order": {"total": 150, "flagged": True}})
    assert await gateway.activate(left, request_timeout_ms=300) == []
    assert await gateway.activate(right, request_timeout_ms=-1) == []

    engine = target.require_local()
    detail = engine.inspect(f"/process-instances/{instance_key}")
    assert detail["current_elements"] == ["choose"]
    assert [i["error_type"] for i in detail["incidents"]] == ["CONDITION_ERROR"]
    await gateway.stub.SetVariables(
        pb.SetVariablesRequest(elementInstanceKey=instance_key, variables=json.dumps({"order": {"total": 5}}))
    )
    await gateway.stub.ResolveIncident(pb.ResolveIncidentRequest(incidentKey=detail["incidents"][0]["key"]))
    assert (await gateway.activate_one(right)).elementId == "right"


def _error_process(process_id: str, job_type: str, handler: str, catch_code: str | None) -> bytes:
    extra = error("err_declined", "PAYMENT_DECLINED") + error("err_other", "OTHER")
    ref = {"PAYMENT_DECLINED": "err_declined", None: None}[catch_code]
    return caught_error_process(process_id, job_type, handler, error_boundary("declined", "pay", ref), extra)


@pytest.mark.parametrize("catch_code", ["PAYMENT_DECLINED", None], ids=["by-code", "catch-all"])
async def test_error_boundary_catches_a_thrown_error(gateway: Gateway, catch_code: str | None) -> None:
    process_id, job_type, handler = unique("err"), unique("pay"), unique("handle")
    await gateway.deploy("p.bpmn", _error_process(process_id, job_type, handler, catch_code))
    await gateway.create(process_id, {"order_id": "order_1"})
    job = await gateway.activate_one(job_type)
    await gateway.throw_error(job.key, "PAYMENT_DECLINED", "card declined", {"reason": "insufficient funds"})

    handled = await gateway.activate_one(handler)
    assert handled.elementId == "handle"
    assert json.loads(handled.variables) == {"order_id": "order_1", "reason": "insufficient funds"}
    await expect_status(grpc.StatusCode.NOT_FOUND, gateway.complete(job.key))


async def test_an_uncaught_error_raises_an_incident(gateway: Gateway, target: Target) -> None:
    process_id, job_type, handler = unique("err"), unique("pay"), unique("handle")
    await gateway.deploy("p.bpmn", _error_process(process_id, job_type, handler, "PAYMENT_DECLINED"))
    instance_key = await gateway.create(process_id)
    job = await gateway.activate_one(job_type)
    await gateway.throw_error(job.key, "SOMETHING_ELSE", "unexpected")
    assert await gateway.activate(handler, request_timeout_ms=300) == []
    assert await gateway.activate(job_type, request_timeout_ms=-1) == []

    incidents = target.require_local().inspect(f"/process-instances/{instance_key}")["incidents"]
    assert [i["error_type"] for i in incidents] == ["UNHANDLED_ERROR_EVENT"]
    assert "SOMETHING_ELSE" in incidents[0]["error_message"]


async def test_error_code_and_message_variables_are_set(gateway: Gateway, target: Target) -> None:
    target.require_local()
    process_id, job_type, handler = unique("err"), unique("pay"), unique("handle")
    attributes = 'zeebe:errorCodeVariable="code" zeebe:errorMessageVariable="why"'
    boundary = error_boundary("declined", "pay", None, attributes)
    await gateway.deploy("p.bpmn", caught_error_process(process_id, job_type, handler, boundary))
    await gateway.create(process_id)
    job = await gateway.activate_one(job_type)
    await gateway.throw_error(job.key, "STOCK_MISSING", "no stock")
    handled = await gateway.activate_one(handler)
    assert json.loads(handled.variables) == {"code": "STOCK_MISSING", "why": "no stock"}


async def test_an_error_end_event_without_a_catcher_raises_an_incident(
    gateway: Gateway, target: Target
) -> None:
    process_id = unique("errend")
    body = start() + end("boom", "err_x") + flow("f1", "start", "boom")
    await gateway.deploy("p.bpmn", definitions(process_id, body, error("err_x", "X")))
    instance_key = await gateway.create(process_id)
    detail = target.require_local().inspect(f"/process-instances/{instance_key}")
    assert detail["state"] == "ACTIVE"
    assert [i["error_type"] for i in detail["incidents"]] == ["UNHANDLED_ERROR_EVENT"]


async def test_an_interrupting_timer_cancels_the_task(gateway: Gateway) -> None:
    process_id, job_type, on_timer = unique("timer"), unique("work"), unique("late")
    await gateway.deploy("p.bpmn", timer_process(process_id, job_type, on_timer, interrupting=True))
    await gateway.create(process_id)
    job = await gateway.activate_one(job_type, timeout_ms=30_000)

    escalation = await gateway.activate_one(on_timer, wait_ms=5000)
    assert escalation.elementId == "escalate"
    await expect_status(grpc.StatusCode.NOT_FOUND, gateway.complete(job.key))


async def test_a_non_interrupting_timer_keeps_the_task(gateway: Gateway) -> None:
    process_id, job_type, on_timer = unique("timer"), unique("work"), unique("late")
    await gateway.deploy("p.bpmn", timer_process(process_id, job_type, on_timer, interrupting=False))
    await gateway.create(process_id)
    job = await gateway.activate_one(job_type, timeout_ms=30_000)

    escalation = await gateway.activate_one(on_timer, wait_ms=5000)
    await gateway.complete(job.key)
    await gateway.complete(escalation.key)


async def test_a_timer_is_cancelled_when_the_task_completes(gateway: Gateway, target: Target) -> None:
    process_id, job_type, on_timer = unique("timer"), unique("work"), unique("late")
    await gateway.deploy("p.bpmn", timer_process(process_id, job_type, on_timer, interrupting=True))
    instance_key = await gateway.create(process_id)
    job = await gateway.activate_one(job_type)
    await gateway.complete(job.key)
    assert await gateway.activate(on_timer, request_timeout_ms=1600) == []
    if target.engine is not None:
        assert target.engine.inspect(f"/process-instances/{instance_key}")["state"] == "COMPLETED"


async def test_io_mappings_scope_and_propagate_variables(gateway: Gateway) -> None:
    process_id, first, second = unique("io"), unique("first"), unique("second")
    mappings = (
        '<zeebe:input source="=order.total * 2" target="amount" />'
        '<zeebe:input source="static text" target="note" />'
        '<zeebe:output source="=charged" target="payment.charged" />'
        '<zeebe:output source="=amount" target="payment.amount" />'
    )
    body = (
        start()
        + task("charge", first, mappings=mappings)
        + task("ship", second)
        + end()
        + flow("f1", "start", "charge")
        + flow("f2", "charge", "ship")
        + flow("f3", "ship", "end")
    )
    await gateway.deploy("p.bpmn", definitions(process_id, body))
    await gateway.create(process_id, {"order": {"total": 21}, "payment": {"currency": "eur"}})

    charge = await gateway.activate_one(first)
    assert json.loads(charge.variables) == {
        "order": {"total": 21},
        "payment": {"currency": "eur"},
        "amount": 42,
        "note": "static text",
    }
    await gateway.complete(charge.key, {"charged": True, "receipt": "r-1"})

    ship = await gateway.activate_one(second)
    assert json.loads(ship.variables) == {
        "order": {"total": 21},
        "payment": {"currency": "eur", "charged": True, "amount": 42},
    }
    await gateway.complete(ship.key, {"tracking": "t-1"})


async def test_job_variables_update_a_local_input_variable_of_the_same_name(gateway: Gateway) -> None:
    process_id, first, second = unique("io"), unique("first"), unique("second")
    body = (
        start()
        + task("a", first, mappings='<zeebe:input source="=1" target="local_only" />')
        + task("b", second)
        + end()
        + flow("f1", "start", "a")
        + flow("f2", "a", "b")
        + flow("f3", "b", "end")
    )
    await gateway.deploy("p.bpmn", definitions(process_id, body))
    await gateway.create(process_id, {"kept": 1})
    job = await gateway.activate_one(first)
    await gateway.complete(job.key, {"local_only": 2, "result": "ok"})
    after = await gateway.activate_one(second)
    assert json.loads(after.variables) == {"kept": 1, "result": "ok"}


def _fork_process(process_id: str, first: str, left: str, right: str) -> bytes:
    """Task "a" with two outgoing flows: tasks "l" and "r" run in parallel, each to its own end event."""
    body = (
        start()
        + task("a", first)
        + task("l", left)
        + task("r", right)
        + end("end_l")
        + end("end_r")
        + flow("f1", "start", "a")
        + flow("f2", "a", "l")
        + flow("f3", "a", "r")
        + flow("f4", "l", "end_l")
        + flow("f5", "r", "end_r")
    )
    return definitions(process_id, body)


async def test_parallel_tokens_from_a_task_with_two_outgoing_flows(gateway: Gateway) -> None:
    process_id, first, left, right = unique("fork"), unique("first"), unique("left"), unique("right")
    await gateway.deploy("p.bpmn", _fork_process(process_id, first, left, right))
    instance_key = await gateway.create(process_id)
    await gateway.complete((await gateway.activate_one(first)).key)
    left_job, right_job = await gateway.activate_one(left), await gateway.activate_one(right)
    assert left_job.processInstanceKey == right_job.processInstanceKey == instance_key
    await gateway.complete(left_job.key)
    await gateway.complete(right_job.key)


async def test_the_instance_completes_when_its_last_token_ends(gateway: Gateway, target: Target) -> None:
    engine = target.require_local()
    process_id, first, left, right = unique("fork"), unique("first"), unique("left"), unique("right")
    await gateway.deploy("p.bpmn", _fork_process(process_id, first, left, right))
    key = await gateway.create(process_id)
    await gateway.complete((await gateway.activate_one(first)).key)
    await gateway.complete((await gateway.activate_one(left)).key)
    assert engine.inspect(f"/process-instances/{key}")["current_elements"] == ["r"]
    await gateway.complete((await gateway.activate_one(right)).key)
    assert await eventually(lambda: engine.inspect(f"/process-instances/{key}")["state"] == "COMPLETED")


async def test_a_token_that_ends_at_once_does_not_end_its_parallel_sibling(
    gateway: Gateway, target: Target
) -> None:
    process_id, first, second = unique("fork-end"), unique("first"), unique("second")
    body = (
        start()
        + task("a", first)
        + task("b", second)
        + end("end_now")
        + end("end_b")
        + flow("f1", "start", "a")
        + flow("f2", "a", "end_now")
        + flow("f3", "a", "b")
        + flow("f4", "b", "end_b")
    )
    await gateway.deploy("p.bpmn", definitions(process_id, body))
    key = await gateway.create(process_id)
    await gateway.complete((await gateway.activate_one(first)).key)
    sibling = await gateway.activate_one(second)
    assert sibling.processInstanceKey == key
    if target.engine is not None:
        assert target.engine.inspect(f"/process-instances/{key}")["state"] == "ACTIVE"
    await gateway.complete(sibling.key)


async def test_a_condition_that_is_not_a_boolean_raises_an_extract_value_incident(
    gateway: Gateway, target: Target
) -> None:
    engine = target.require_local()
    process_id, left, right = unique("xor"), unique("left"), unique("right")
    await gateway.deploy("p.bpmn", _gateway_process(process_id, left, right, with_default=False))
    instance_key = await gateway.create(process_id, {"order": {"total": "a lot", "flagged": False}})
    [incident] = engine.inspect(f"/process-instances/{instance_key}")["incidents"]
    assert (incident["error_type"], incident["element_id"]) == ("EXTRACT_VALUE_ERROR", "choose")
    assert "to be 'BOOLEAN', but was null" in incident["error_message"]
