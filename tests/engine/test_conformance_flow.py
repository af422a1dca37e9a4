"""Conformance: every supported BPMN element behaves as in Zeebe, observed through the gateway API."""

from __future__ import annotations

import asyncio
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
    # The token stays at the gateway with an incident: neither branch has a job.
    assert await gateway.activate(left, request_timeout_ms=300) == []
    assert await gateway.activate(right, request_timeout_ms=-1) == []
    if target.engine is not None:
        detail = target.engine.inspect(f"/process-instances/{instance_key}")
        assert detail["current_elements"] == ["choose"]
        assert [i["error_type"] for i in detail["incidents"]] == ["CONDITION_ERROR"]

    await gateway.stub.SetVariables(
        pb.SetVariablesRequest(elementInstanceKey=instance_key, variables=json.dumps({"order": {"total": 5}}))
    )
    assert await gateway.activate(right, request_timeout_ms=300) == [], "only resolving moves the token"
    await _resolve_the_incident(gateway, target, instance_key)
    if target.engine is not None:
        assert (await gateway.activate_one(right)).elementId == "right"


async def _resolve_the_incident(gateway: Gateway, target: Target, instance_key: int) -> None:
    """Resolves the instance's one incident where its key is known (the gateway API has no incident query)."""
    keys = target.incident_keys(instance_key)
    if keys is not None:
        assert len(keys) == 1, keys
        await gateway.stub.ResolveIncident(pb.ResolveIncidentRequest(incidentKey=keys[0]))


def _error_process(
    process_id: str, job_type: str, handler: str, catch_code: str | None, outputs: str = ""
) -> bytes:
    extra = error("err_declined", "PAYMENT_DECLINED") + error("err_other", "OTHER")
    ref = {"PAYMENT_DECLINED": "err_declined", None: None}[catch_code]
    boundary = error_boundary("declined", "pay", ref, outputs=outputs)
    return caught_error_process(process_id, job_type, handler, boundary, extra)


@pytest.mark.parametrize("catch_code", ["PAYMENT_DECLINED", None], ids=["by-code", "catch-all"])
async def test_error_boundary_catches_a_thrown_error(gateway: Gateway, catch_code: str | None) -> None:
    process_id, job_type, handler = unique("err"), unique("pay"), unique("handle")
    await gateway.deploy("p.bpmn", _error_process(process_id, job_type, handler, catch_code))
    await gateway.create(process_id, {"order_id": "order_1"})
    job = await gateway.activate_one(job_type)
    await gateway.throw_error(job.key, "PAYMENT_DECLINED", "card declined", {"reason": "insufficient funds"})

    handled = await gateway.activate_one(handler)
    assert handled.elementId == "handle"
    # The thrown variables live in the catch event's local scope only (gateway.proto, ThrowErrorRequest).
    assert json.loads(handled.variables) == {"order_id": "order_1"}
    await expect_status(grpc.StatusCode.NOT_FOUND, gateway.complete(job.key))


async def test_an_output_mapping_on_the_catch_event_carries_thrown_variables_on(gateway: Gateway) -> None:
    process_id, job_type, handler = unique("err"), unique("pay"), unique("handle")
    outputs = '<zeebe:output source="=reason" target="decline_reason" />'
    await gateway.deploy("p.bpmn", _error_process(process_id, job_type, handler, "PAYMENT_DECLINED", outputs))
    await gateway.create(process_id, {"order_id": "order_1"})
    job = await gateway.activate_one(job_type)
    await gateway.throw_error(job.key, "PAYMENT_DECLINED", "card declined", {"reason": "insufficient funds"})

    handled = await gateway.activate_one(handler)
    assert json.loads(handled.variables) == {"order_id": "order_1", "decline_reason": "insufficient funds"}


async def test_an_uncaught_error_raises_an_incident(gateway: Gateway, target: Target) -> None:
    process_id, job_type, handler = unique("err"), unique("pay"), unique("handle")
    await gateway.deploy("p.bpmn", _error_process(process_id, job_type, handler, "PAYMENT_DECLINED"))
    instance_key = await gateway.create(process_id)
    job = await gateway.activate_one(job_type)
    await gateway.throw_error(job.key, "SOMETHING_ELSE", "unexpected")
    assert await gateway.activate(handler, request_timeout_ms=300) == []
    assert await gateway.activate(job_type, request_timeout_ms=-1) == []

    if target.engine is not None:
        incidents = target.engine.inspect(f"/process-instances/{instance_key}")["incidents"]
        assert [i["error_type"] for i in incidents] == ["UNHANDLED_ERROR_EVENT"]
        assert "SOMETHING_ELSE" in incidents[0]["error_message"]


@pytest.mark.parametrize("attribute", ["errorCodeVariable", "errorMessageVariable"])
async def test_error_code_and_message_variables_are_no_zeebe_feature(
    gateway: Gateway, target: Target, attribute: str
) -> None:
    """Zeebe 8.2+ ignores zeebe:errorCodeVariable / errorMessageVariable. localzeebe refuses them at deploy
    (a model relying on them would lose the code silently on Camunda 8); Zeebe deploys and never sets them."""
    process_id, job_type, handler = unique("err"), unique("pay"), unique("handle")
    boundary = error_boundary("declined", "pay", None, f'zeebe:{attribute}="code"')
    model = caught_error_process(process_id, job_type, handler, boundary)
    if target.engine is not None:
        refused = await expect_status(grpc.StatusCode.INVALID_ARGUMENT, gateway.deploy("p.bpmn", model))
        assert f"zeebe:{attribute}" in (refused.details() or "")
        assert "'declined'" in (refused.details() or "")
        return
    await gateway.deploy("p.bpmn", model)
    await gateway.create(process_id)
    await gateway.throw_error((await gateway.activate_one(job_type)).key, "STOCK_MISSING", "no stock")
    assert json.loads((await gateway.activate_one(handler)).variables) == {}


async def test_an_error_end_event_without_a_catcher_raises_an_incident(
    gateway: Gateway, target: Target
) -> None:
    process_id = unique("errend")
    body = start() + end("boom", "err_x") + flow("f1", "start", "boom")
    await gateway.deploy("p.bpmn", definitions(process_id, body, error("err_x", "X")))
    # The instance never completes: it waits at the end event with an incident.
    await expect_status(
        grpc.StatusCode.DEADLINE_EXCEEDED, gateway.create_with_result(process_id, timeout_ms=1000)
    )
    if target.engine is not None:
        [detail] = target.engine.inspect("/process-instances", bpmn_process_id=process_id)["items"]
        assert detail["state"] == "ACTIVE"
        assert detail["incident_count"] == 1


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


def _charge_then_ship(process_id: str, first: str, second: str, mappings: str) -> bytes:
    """Task "charge" (with these mappings) of job type `first`, then task "ship" of job type `second`."""
    body = (
        start()
        + task("charge", first, mappings=mappings)
        + task("ship", second)
        + end()
        + flow("f1", "start", "charge")
        + flow("f2", "charge", "ship")
        + flow("f3", "ship", "end")
    )
    return definitions(process_id, body)


async def test_io_mappings_scope_and_propagate_variables(gateway: Gateway) -> None:
    process_id, first, second = unique("io"), unique("first"), unique("second")
    mappings = (
        '<zeebe:input source="=order.total * 2" target="amount" />'
        '<zeebe:input source="static text" target="note" />'
        '<zeebe:output source="=charged" target="payment.charged" />'
        '<zeebe:output source="=amount" target="payment.amount" />'
    )
    await gateway.deploy("p.bpmn", _charge_then_ship(process_id, first, second, mappings))
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


async def test_the_instance_completes_when_its_last_token_ends(gateway: Gateway) -> None:
    process_id, first, left, right = unique("fork"), unique("first"), unique("left"), unique("right")
    await gateway.deploy("p.bpmn", _fork_process(process_id, first, left, right))
    result = asyncio.create_task(gateway.create_with_result(process_id, {"n": 1}, timeout_ms=20_000))
    await gateway.complete((await gateway.activate_one(first)).key)
    await gateway.complete((await gateway.activate_one(left)).key, {"left": True})
    done, _ = await asyncio.wait({result}, timeout=0.5)
    assert not done, "the instance ended while a token was still at 'r'"
    await gateway.complete((await gateway.activate_one(right)).key, {"right": True})
    assert await asyncio.wait_for(result, 25) == {"n": 1, "left": True, "right": True}


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
    process_id, left, right = unique("xor"), unique("left"), unique("right")
    await gateway.deploy("p.bpmn", _gateway_process(process_id, left, right, with_default=False))
    instance_key = await gateway.create(process_id, {"order": {"total": "a lot", "flagged": False}})
    assert await gateway.activate(left, request_timeout_ms=300) == []
    assert await gateway.activate(right, request_timeout_ms=-1) == []
    if target.engine is not None:
        [incident] = target.engine.inspect(f"/process-instances/{instance_key}")["incidents"]
        assert (incident["error_type"], incident["element_id"]) == ("EXTRACT_VALUE_ERROR", "choose")
        assert "to be 'BOOLEAN', but was null" in incident["error_message"]
    await gateway.stub.SetVariables(
        pb.SetVariablesRequest(elementInstanceKey=instance_key, variables=json.dumps({"order": {"total": 5}}))
    )
    await _resolve_the_incident(gateway, target, instance_key)
    if target.engine is not None:
        assert (await gateway.activate_one(right)).elementId == "right"


async def test_an_input_mapping_to_a_nested_target_builds_a_new_context(gateway: Gateway) -> None:
    process_id, first, second = unique("nested"), unique("first"), unique("second")
    mappings = '<zeebe:input source="=order.total" target="payment.amount" />'
    await gateway.deploy("p.bpmn", _charge_then_ship(process_id, first, second, mappings))
    await gateway.create(process_id, {"order": {"total": 21}, "payment": {"currency": "eur"}})

    charge = await gateway.activate_one(first)
    # the local `payment` is a new context: the process's payment.currency is not merged into it
    assert json.loads(charge.variables)["payment"] == {"amount": 21}
    await gateway.complete(charge.key)
    ship = await gateway.activate_one(second)
    assert json.loads(ship.variables)["payment"] == {"currency": "eur"}


async def test_feel_numbers_are_decimals(gateway: Gateway) -> None:
    process_id, job_type = unique("decimal"), unique("job")
    mappings = (
        '<zeebe:input source="=0.1 + 0.2 = 0.3" target="exact" />'
        '<zeebe:input source="=0.1 + 0.2" target="sum" />'
        '<zeebe:input source="=price * 3" target="total" />'
        '<zeebe:input source="=10 / 4" target="quarter" />'
        '<zeebe:input source="=6 / 3" target="whole" />'
    )
    body = (
        start()
        + task("t", job_type, mappings=mappings)
        + end()
        + flow("f1", "start", "t")
        + flow("f2", "t", "end")
    )
    await gateway.deploy("p.bpmn", definitions(process_id, body))
    await gateway.create(process_id, {"price": 0.1})

    variables = json.loads((await gateway.activate_one(job_type)).variables)
    assert variables == {"price": 0.1, "exact": True, "sum": 0.3, "total": 0.3, "quarter": 2.5, "whole": 2}
