"""`python -m worker_job.check_incidents` as a real process against the real local engine.

Two test models of their own (own process ids and job types, deployed through the deploy step's function):
one whose gateway condition is not a boolean, so the engine raises an incident itself with no worker
involved; one whose job a worker fails without retries. One run of the checker reports both, each with its
order, and counts them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto.gateway_pb2_grpc import GatewayStub

from devstack.stack import local_deploy_settings
from localzeebe.launcher import LocalEngine
from worker_job.deploy_model import deploy_models

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXPRESSION_PROCESS = "checker-expression"
JOB_PROCESS = "checker-failed-job"
JOB_TYPE = "checker-failed-job-type"

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:extensionElements><zeebe:versionTag value="1.0.0" /></bpmn:extensionElements>
    <bpmn:startEvent id="start" />
    {body}
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""
# "amount + 1" is a number, not a boolean: the engine cannot take the flow and raises EXTRACT_VALUE_ERROR.
NOT_A_BOOLEAN = """
    <bpmn:exclusiveGateway id="choose" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose" />
    <bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=amount + 1</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""
ONE_TASK = f"""
    <bpmn:serviceTask id="work">
      <bpmn:extensionElements><zeebe:taskDefinition type="{JOB_TYPE}" retries="1" /></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    directory = tmp_path_factory.mktemp("checker")
    with LocalEngine.start(log_path=directory / "engine.log") as launched:
        models = directory / "models"
        models.mkdir()
        for process_id, body in ((EXPRESSION_PROCESS, NOT_A_BOOLEAN), (JOB_PROCESS, ONE_TASK)):
            (models / f"{process_id}.bpmn").write_text(MODEL.format(process_id=process_id, body=body))
        deploy_models(local_deploy_settings(launched.grpc_address, launched.http_url), models)
        yield launched


def create(stub: GatewayStub, process_id: str, variables: dict[str, Any]) -> int:
    request = pb.CreateProcessInstanceRequest(
        bpmnProcessId=process_id, version=-1, variables=json.dumps(variables)
    )
    return int(stub.CreateProcessInstance(request, timeout=10).processInstanceKey)


def fail_without_retries(stub: GatewayStub, message: str) -> None:
    request = pb.ActivateJobsRequest(
        type=JOB_TYPE, worker="test", timeout=30_000, maxJobsToActivate=1, requestTimeout=5000
    )
    [job] = [job for response in stub.ActivateJobs(request, timeout=15) for job in response.jobs]
    stub.FailJob(pb.FailJobRequest(jobKey=job.key, retries=0, errorMessage=message), timeout=10)


def wait_for_incidents(engine: LocalEngine, instances: set[int]) -> None:
    deadline = time.monotonic() + 10
    while {
        i["process_instance_key"] for i in engine.inspect("/incidents", state="ACTIVE")["items"]
    } < instances:
        assert time.monotonic() < deadline, engine.inspect("/incidents")
        time.sleep(0.05)


def check(api_url: str) -> tuple[int, list[dict[str, Any]]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZEEBE_", "CAMUNDA_"))}
    result = subprocess.run(
        [sys.executable, "-m", "worker_job.check_incidents"],
        cwd=REPO,
        env={**env, "CAMUNDA_API_URL": api_url, "CAMUNDA_API_MAX_ATTEMPTS": "2"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


def test_one_run_reports_the_engines_own_incident_and_a_failed_jobs_with_their_orders(
    engine: LocalEngine,
) -> None:
    with grpc.insecure_channel(engine.grpc_address) as channel:
        stub = GatewayStub(channel)
        expression = create(stub, EXPRESSION_PROCESS, {"order_id": "order_01EXPRESSION", "amount": 5})
        failed = create(stub, JOB_PROCESS, {"order_id": "order_01FAILED"})
        fail_without_retries(stub, "MedusaUnavailable: 503 for an hour")
    wait_for_incidents(engine, {expression, failed})

    code, lines = check(engine.http_url)

    reported = {line["process_instance_key"]: line for line in lines if line.get("event") == "incident_open"}
    [summary] = [line for line in lines if line.get("event") == "incident_check"]
    assert code == 0
    assert set(reported) == {str(expression), str(failed)}
    engine_raised, job_failed = reported[str(expression)], reported[str(failed)]
    assert (engine_raised["bpmn_process_id"], engine_raised["error_type"], engine_raised["order_id"]) == (
        EXPRESSION_PROCESS,
        "EXTRACT_VALUE_ERROR",
        "order_01EXPRESSION",
    )
    assert (job_failed["bpmn_process_id"], job_failed["error_type"], job_failed["order_id"]) == (
        JOB_PROCESS,
        "JOB_NO_RETRIES",
        "order_01FAILED",
    )
    assert job_failed["error_message"] == "MedusaUnavailable: 503 for an hour"
    assert all(line["incident_key"].isdigit() and line["created_at"] for line in reported.values())
    assert summary["open_incidents"] == len(reported)


def test_a_checker_that_cannot_reach_the_api_says_so_and_fails() -> None:
    code, lines = check("http://127.0.0.1:9")

    assert code == 1
    [failure] = lines
    assert failure["event"] == "incident_check_failed"
    assert "CamundaApiUnavailable" in failure["error"]
