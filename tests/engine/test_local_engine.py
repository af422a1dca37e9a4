"""What only the local engine offers or refuses: BPMN outside the subset, inspection, logs, durable state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pyzeebe.proto import gateway_pb2 as pb

from localzeebe.launcher import EngineStartError, LocalEngine
from localzeebe.store import Store

from .support import (
    REPO_ROOT,
    Gateway,
    caught_error_process,
    definitions,
    end,
    expect_status,
    flow,
    message,
    message_boundary,
    message_start_process,
    one_task_process,
    start,
    task,
    timer_boundary,
    timer_catch,
    timer_process,
    unique,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def local(local_engine: LocalEngine) -> AsyncIterator[Gateway]:
    client = Gateway(local_engine.grpc_address)
    yield client
    await client.close()


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (
            '<bpmn:parallelGateway id="fork" />',
            "element 'fork' (line 14): unsupported BPMN element <parallelGateway>",
        ),
        ('<bpmn:scriptTask id="calc" />', "element 'calc' (line 14): unsupported BPMN element <scriptTask>"),
    ],
)
async def test_unsupported_bpmn_is_refused_at_deploy(local: Gateway, element: str, expected: str) -> None:
    body = (
        start()
        + task("t", "job")
        + end()
        + flow("f1", "start", "t")
        + flow("f2", "t", "end")
        + "\n\n"
        + element
    )
    refused = await expect_status(
        grpc.StatusCode.INVALID_ARGUMENT, local.deploy("bad.bpmn", definitions("p", body))
    )
    assert "resource 'bad.bpmn'" in (refused.details() or "")
    assert expected in (refused.details() or "")


async def test_rpcs_outside_the_supported_set_answer_unimplemented(local: Gateway) -> None:
    refused = await expect_status(
        grpc.StatusCode.UNIMPLEMENTED,
        local.stub.EvaluateDecision(pb.EvaluateDecisionRequest(decisionId="d")),
    )
    assert "EvaluateDecision is not supported by localzeebe" in (refused.details() or "")
    await expect_status(
        grpc.StatusCode.UNIMPLEMENTED, local.stub.BroadcastSignal(pb.BroadcastSignalRequest(signalName="s"))
    )


async def test_grpc_health_reports_the_gateway_serving(local: Gateway) -> None:
    stub = health_pb2_grpc.HealthStub(local.channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service="gateway_protocol.Gateway"))
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_inspect_cli_finds_instances_by_correlation_key(
    local: Gateway, local_engine: LocalEngine
) -> None:
    process_id, name, job_type = unique("cli-key"), unique("placed"), unique("job")
    await local.deploy("p.bpmn", message_start_process(process_id, name, job_type, task_id="t"))
    correlation_key = unique("order")
    await local.publish(name, correlation_key, variables={"order_id": correlation_key})
    job = await local.activate_one(job_type)

    shown = _inspect_cli("--url", local_engine.http_url, "--correlation-key", correlation_key)
    assert f"process instance {job.processInstanceKey}  {process_id} v1  ACTIVE" in shown
    assert f"correlation key: {correlation_key}" in shown
    assert "current elements: t" in shown


async def test_inspection_shows_state_variables_history_and_filters(
    local: Gateway, local_engine: LocalEngine
) -> None:
    process_id, name, job_type = unique("inspect"), unique("placed"), unique("job")
    await local.deploy("p.bpmn", message_start_process(process_id, name, job_type, task_id="t"))
    await local.publish(name, "order_77", ttl_ms=10_000, message_id="order_77", variables={"total": 5})
    job = await local.activate_one(job_type)

    [summary] = local_engine.inspect("/process-instances", bpmn_process_id=process_id, state="ACTIVE")[
        "items"
    ]
    assert summary["key"] == job.processInstanceKey
    assert local_engine.inspect("/process-instances", correlation_key="order_77")["items"] == [summary]
    assert (
        local_engine.inspect("/process-instances", bpmn_process_id=process_id, state="COMPLETED")["items"]
        == []
    )

    await local.complete(job.key, {"shipped": True})
    detail = local_engine.inspect(f"/process-instances/{job.processInstanceKey}")
    assert detail["state"] == "COMPLETED"
    assert detail["correlation_key"] == "order_77"
    assert detail["current_elements"] == []
    assert detail["variables"] == {"total": 5, "shipped": True}
    assert detail["end_time"] >= detail["start_time"]
    assert [(h["element_id"], h["intent"]) for h in detail["history"]] == [
        (process_id, "ELEMENT_ACTIVATED"),
        ("placed", "ELEMENT_ACTIVATED"),
        ("placed", "ELEMENT_COMPLETED"),
        ("t", "ELEMENT_ACTIVATED"),
        ("t", "ELEMENT_COMPLETED"),
        ("end", "ELEMENT_ACTIVATED"),
        ("end", "ELEMENT_COMPLETED"),
        (process_id, "ELEMENT_COMPLETED"),
    ]
    assert job.key in {j["key"] for j in local_engine.inspect("/jobs", state="COMPLETED")["items"]}
    assert "order_77" in {m["message_id"] for m in local_engine.inspect("/messages")["items"]}
    assert local_engine.inspect("/health") == {"status": "UP"}
    async with httpx.AsyncClient(base_url=local_engine.http_url) as http:
        assert (await http.get("/process-instances/1")).status_code == 404
        assert (await http.post("/process-instances")).status_code == 405


def _inspect_cli(*args: str) -> str:
    command = [sys.executable, "-m", "localzeebe", "inspect", *args]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_inspect_cli_prints_an_instance_readably(local: Gateway, local_engine: LocalEngine) -> None:
    process_id, job_type = unique("cli"), unique("job")
    await local.deploy("p.bpmn", one_task_process(process_id, job_type))
    key = await local.create(process_id, {"order_id": "order_cli"})
    job = await local.activate_one(job_type)
    await local.fail(job.key, retries=0, message="stock service down")

    shown = _inspect_cli("--url", local_engine.http_url, str(key))
    assert f"process instance {key}  {process_id} v1  ACTIVE" in shown
    assert 'order_id = "order_cli"' in shown
    assert "JOB_NO_RETRIES at task: stock service down" in shown
    assert "INCIDENT_CREATED" in shown
    by_key = _inspect_cli("--url", local_engine.http_url, "--correlation-key", "nobody-has-this-key")
    assert by_key.strip() == "no process instances"
    listed = _inspect_cli("--url", local_engine.http_url, "--all")
    assert f"{key}  {process_id} v1  ACTIVE" in listed
    assert "incidents=1" in listed


def test_inspect_cli_says_when_the_engine_is_unreachable() -> None:
    command = [sys.executable, "-m", "localzeebe", "inspect", "--url", "http://127.0.0.1:9", "--all"]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert "cannot reach the inspection API" in done.stdout


async def test_every_event_is_logged_on_one_line(local: Gateway, local_engine: LocalEngine) -> None:
    process_id, job_type = unique("logged"), unique("job")
    await local.deploy("p.bpmn", one_task_process(process_id, job_type))
    key = await local.create(process_id)
    job = await local.activate_one(job_type)
    await local.complete(job.key)
    await local.publish(unique("logged-message"), "k")

    log = local_engine.log_path.read_text()
    for expected in [
        f"deployed process {process_id} version 1",
        f"instance created key {key} process {process_id}",
        f"job activated key {job.key} type {job_type} worker conformance",
        f"job completed key {job.key} type {job_type}",
        f"instance completed key {key}",
        "message published key",
    ]:
        assert expected in log


@contextlib.asynccontextmanager
async def _restartable(data_dir: Path, log_path: Path) -> AsyncIterator[tuple[LocalEngine, Gateway]]:
    """An engine on `data_dir` and a client; the engine must stop cleanly (exit 0: its state is written)."""
    engine = LocalEngine.start(log_path=log_path, data_dir=data_dir)
    try:
        client = Gateway(engine.grpc_address)
        yield engine, client
        await client.close()
    finally:
        assert engine.stop() == 0


async def test_state_survives_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    data_dir, log_path = tmp_path / "data", tmp_path / "engine.log"
    process_id, name, job_type = unique("durable"), unique("placed"), unique("job")
    process = message_start_process(process_id, name, job_type, task_id="t")

    async with _restartable(data_dir, log_path) as (_, client):
        await client.deploy("p.bpmn", process)
        await client.publish(name, "order_1", ttl_ms=60_000, message_id="order_1", variables={"n": 1})
        await client.publish(name, "order_1", ttl_ms=60_000, message_id="order_1-again", variables={"n": 2})
        first = await client.activate_one(job_type, timeout_ms=1000)

    async with _restartable(data_dir, log_path) as (engine, client):
        await expect_status(
            grpc.StatusCode.ALREADY_EXISTS,
            client.publish(name, "order_1", ttl_ms=60_000, message_id="order_1"),
        )
        again = await client.activate_one(job_type, wait_ms=5000)  # timed out meanwhile: delivered again
        assert again.key == first.key
        await client.complete(again.key, {"done": True})
        follow_up = await client.activate_one(job_type)  # the buffered second message starts the next one
        assert json.loads(follow_up.variables) == {"n": 2}
        instances = engine.inspect("/process-instances", bpmn_process_id=process_id)["items"]
        assert sorted(i["state"] for i in instances) == ["ACTIVE", "COMPLETED"]
        redeployed = await client.deploy("p.bpmn", process)
        assert redeployed.deployments[0].process.version == 1


def test_a_busy_port_stops_the_engine_with_one_clear_line(local_engine: LocalEngine) -> None:
    busy_port = local_engine.grpc_address.rsplit(":", 1)[1]
    command = [sys.executable, "-m", "localzeebe", "--port", busy_port, "--http-port", "0"]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"cannot listen for gRPC on 127.0.0.1:{busy_port}" in done.stderr


def test_the_launcher_reports_an_engine_that_exits_at_start(
    local_engine: LocalEngine, tmp_path: Path
) -> None:
    busy_port = int(local_engine.grpc_address.rsplit(":", 1)[1])
    with pytest.raises(EngineStartError) as failed:
        LocalEngine.start(port=busy_port, log_path=tmp_path / "engine.log")
    assert "localzeebe exited with code 1 before it was ready" in str(failed.value)
    assert f"cannot listen for gRPC on 127.0.0.1:{busy_port}" in str(failed.value)


async def test_timers_survive_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    data_dir, log_path = tmp_path / "data", tmp_path / "engine.log"
    process_id, job_type, on_timer = unique("durable-timer"), unique("work"), unique("late")
    async with _restartable(data_dir, log_path) as (_, client):
        await client.deploy("p.bpmn", timer_process(process_id, job_type, on_timer))
        await client.create(process_id)

    async with _restartable(data_dir, log_path) as (_, client):
        escalation = await client.activate_one(on_timer, wait_ms=5000)
        assert escalation.elementId == "escalate"
        assert await client.activate(job_type, request_timeout_ms=-1) == []


async def test_catch_timers_and_message_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    data_dir, log_path = tmp_path / "data", tmp_path / "engine.log"
    process_id, job_type, on_cancel, name = (
        unique("durable-wait"),
        unique("work"),
        unique("rec"),
        unique("cancel"),
    )
    body = (
        start()
        + timer_catch("wait", "PT1S")
        + task("work", job_type)
        + message_boundary("canceled", "work", "msg_cancel")
        + task("record", on_cancel)
        + end()
        + end("ended_canceled")
        + flow("f0", "start", "wait")
        + flow("f1", "wait", "work")
        + flow("f2", "work", "end")
        + flow("f3", "canceled", "record")
        + flow("f4", "record", "ended_canceled")
    )
    model = definitions(process_id, body, message("msg_cancel", name, "=order_id"))
    async with _restartable(data_dir, log_path) as (_, client):
        await client.deploy("p.bpmn", model)
        await client.create(process_id, {"order_id": "order_W"})

    async with _restartable(data_dir, log_path) as (_, client):
        work = await client.activate_one(job_type, wait_ms=5000)  # the timer fired after the restart
        assert work.elementId == "work"

    async with _restartable(data_dir, log_path) as (_, client):
        await client.publish(name, "order_W")  # the subscription was reopened from the stored state
        assert (await client.activate_one(on_cancel)).elementId == "record"


@pytest.mark.parametrize("retries", [10_000_000_000, "\u00b2", 2.5])
async def test_retries_that_are_no_32_bit_number_raise_an_incident_not_a_broken_job(
    local: Gateway, local_engine: LocalEngine, retries: object
) -> None:
    process_id, job_type = unique("retries"), unique("job")
    await local.deploy("p.bpmn", one_task_process(process_id, job_type, retries="=retries"))
    key = await local.create(process_id, {"retries": retries})
    assert await local.activate(job_type, request_timeout_ms=-1) == []
    [incident] = local_engine.inspect(f"/process-instances/{key}")["incidents"]
    assert incident["error_type"] == "EXTRACT_VALUE_ERROR"
    assert "to be a 32-bit NUMBER" in incident["error_message"]


async def test_keys_stay_unique_across_a_restart_and_unbuffered_messages_are_not_stored(
    tmp_path: Path,
) -> None:
    data_dir, log_path = tmp_path / "data", tmp_path / "engine.log"
    process_id, name, job_type = unique("keys"), unique("placed"), unique("job")
    async with _restartable(data_dir, log_path) as (_, client):
        await client.deploy("p.bpmn", message_start_process(process_id, name, job_type))
        started = await client.publish(name, "order_1", ttl_ms=0)  # starts an instance, then is gone
        unheard = await client.publish(unique("nobody-listens"), "order_1", ttl_ms=0)

    store = Store(data_dir)
    try:
        records, last_key = store.load()
    finally:
        store.close()
    assert "message" not in records
    assert last_key >= max(started, unheard)
    async with _restartable(data_dir, log_path) as (_, client):
        assert await client.publish(unique("nobody-listens"), "order_2", ttl_ms=0) > unheard


def _store_message_as_before_per_process_correlation(data_dir: Path, instance_key: int) -> None:
    """Rewrites the stored messages the way earlier versions kept them: the instances they reached."""
    store = Store(data_dir)
    try:
        with store.connection:
            for key, body in store.connection.execute(
                "SELECT key, body FROM records WHERE kind = 'message'"
            ).fetchall():
                record = json.loads(body)
                del record["correlated_processes"]
                record["correlated_instances"] = [instance_key]
                store.connection.execute(
                    "UPDATE records SET body = ? WHERE kind = 'message' AND key = ?",
                    (json.dumps(record), key),
                )
    finally:
        store.close()


async def test_a_message_stored_with_the_instances_it_reached_still_correlates_once_per_process(
    tmp_path: Path,
) -> None:
    data_dir, log_path = tmp_path / "data", tmp_path / "engine.log"
    process_id, first, work, on_cancel, name = (unique(kind) for kind in ["p", "first", "work", "rec", "n"])
    body = (
        start()
        + task("first", first)
        + task("work", work)
        + message_boundary("canceled", "work", "msg_cancel")
        + task("record", on_cancel)
        + end()
        + end("ended_canceled")
        + flow("f0", "start", "first")
        + flow("f1", "first", "work")
        + flow("f2", "work", "end")
        + flow("f3", "canceled", "record")
        + flow("f4", "record", "ended_canceled")
    )
    async with _restartable(data_dir, log_path) as (_, client):
        await client.deploy("p.bpmn", definitions(process_id, body, message("msg_cancel", name, "=order_id")))
        reached = await client.create(process_id, {"order_id": "order_M"})
        await client.complete((await client.activate_one(first)).key)
        await client.publish(name, "order_M", ttl_ms=60_000)
        assert (await client.activate_one(on_cancel)).processInstanceKey == reached
    _store_message_as_before_per_process_correlation(data_dir, reached)

    async with _restartable(data_dir, log_path) as (_, client):
        await client.create(process_id, {"order_id": "order_M"})
        await client.complete((await client.activate_one(first)).key)
        await client.complete((await client.activate_one(work)).key)  # not interrupted: P was reached


async def test_an_event_whose_output_mapping_failed_keeps_its_payload_for_the_retry(
    local: Gateway, local_engine: LocalEngine
) -> None:
    process_id, job_type, handler = unique("payload"), unique("pay"), unique("handle")
    declined = (
        '<bpmn:boundaryEvent id="declined" attachedToRef="pay"><bpmn:extensionElements><zeebe:ioMapping>'
        '<zeebe:output source="=reason" target="failure.reason" /></zeebe:ioMapping></bpmn:extensionElements>'
        "<bpmn:errorEventDefinition /></bpmn:boundaryEvent>"
    )
    await local.deploy("p.bpmn", caught_error_process(process_id, job_type, handler, declined))
    key = await local.create(process_id, {"failure": "not a context"})
    job = await local.activate_one(job_type)
    await local.throw_error(job.key, "DECLINED", variables={"reason": "card declined"})
    [incident] = local_engine.inspect(f"/process-instances/{key}")["incidents"]
    assert (incident["error_type"], incident["element_id"]) == ("IO_MAPPING_ERROR", "declined")

    fixed = pb.SetVariablesRequest(elementInstanceKey=key, variables=json.dumps({"failure": {}}))
    await local.stub.SetVariables(fixed)
    await local.stub.ResolveIncident(pb.ResolveIncidentRequest(incidentKey=incident["key"]))
    handled = await local.activate_one(handler)
    assert json.loads(handled.variables)["failure"] == {"reason": "card declined"}


async def test_a_task_whose_second_timer_cannot_be_computed_arms_no_timer(
    local: Gateway, local_engine: LocalEngine
) -> None:
    process_id, job_type = unique("timers"), unique("job")
    body = (
        start()
        + task("work", job_type)
        + timer_boundary("soon", "work", "PT1S")
        + timer_boundary("later", "work", "=delay")
        + end()
        + end("after_soon")
        + end("after_later")
        + flow("f1", "start", "work")
        + flow("f2", "work", "end")
        + flow("f3", "soon", "after_soon")
        + flow("f4", "later", "after_later")
    )
    await local.deploy("p.bpmn", definitions(process_id, body))
    key = await local.create(process_id, {"delay": "soon"})
    detail = local_engine.inspect(f"/process-instances/{key}")
    assert [i["error_type"] for i in detail["incidents"]] == ["EXTRACT_VALUE_ERROR"]
    assert [(e["element_id"], e["timers"]) for e in detail["element_instances"]] == [("work", {})]


async def test_start_instructions_are_refused_and_the_deprecated_deploy_process_works(
    local: Gateway,
) -> None:
    process_id, job_type = unique("legacy"), unique("job")
    resource = pb.ProcessRequestObject(name="p.bpmn", definition=one_task_process(process_id, job_type))
    deployed = await local.stub.DeployProcess(pb.DeployProcessRequest(processes=[resource]))
    assert [(p.bpmnProcessId, p.version) for p in deployed.processes] == [(process_id, 1)]
    with_instructions = pb.CreateProcessInstanceRequest(
        bpmnProcessId=process_id, version=-1, startInstructions=[pb.ProcessInstanceCreationStartInstruction()]
    )
    refused = await expect_status(
        grpc.StatusCode.INVALID_ARGUMENT, local.stub.CreateProcessInstance(with_instructions)
    )
    assert "start instructions are not supported" in (refused.details() or "")


async def test_an_expired_message_id_stays_refused_until_the_ttl_checker_runs(tmp_path: Path) -> None:
    """With Zeebe's default checker interval (60 s) the first removal runs a minute after the start, so
    well after its short TTL the message still holds its id (the conformance suite shows it freed later)."""
    with LocalEngine.start(log_path=tmp_path / "engine.log") as engine:
        client = Gateway(engine.grpc_address)
        try:
            name = unique("expiring")
            await client.publish(name, "order_1", ttl_ms=200, message_id="m-1")
            await asyncio.sleep(1.0)  # the TTL is long over; the checker's first run is still a minute away
            await expect_status(grpc.StatusCode.ALREADY_EXISTS, client.publish(name, "order_1", 200, "m-1"))
            assert "message expired" not in engine.log_path.read_text()
        finally:
            await client.close()
