"""pyzeebe's client and worker and the official Go client (zbctl) run processes end to end."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pyzeebe import ZeebeClient, ZeebeWorker, create_insecure_channel
from pyzeebe.errors import BusinessError

from .support import (
    ZBCTL,
    Target,
    definitions,
    end,
    error,
    error_boundary,
    flow,
    one_task_process,
    start,
    task,
    unique,
)

pytestmark = pytest.mark.contract
ZBCTL_ADDRESS_VARIABLES = {"ZEEBE_ADDRESS", "ZEEBE_HOST", "ZEEBE_PORT"}


def _order_process(process_id: str, pay: str, notify: str, refund: str) -> bytes:
    body = (
        start()
        + task("pay", pay)
        + error_boundary("declined", "pay", "err")
        + task("notify", notify)
        + task("refund", refund)
        + end()
        + end("failed")
        + flow("f1", "start", "pay")
        + flow("f2", "pay", "notify")
        + flow("f3", "notify", "end")
        + flow("f4", "declined", "refund")
        + flow("f5", "refund", "failed")
    )
    return definitions(process_id, body, error("err", "PAYMENT_DECLINED"))


async def test_pyzeebe_client_and_worker_run_the_happy_and_the_error_path(
    target: Target, tmp_path: Path
) -> None:
    process_id, pay, notify, refund = unique("pyzeebe"), unique("pay"), unique("notify"), unique("refund")
    (tmp_path / "order.bpmn").write_bytes(_order_process(process_id, pay, notify, refund))
    channel = create_insecure_channel(target.address)
    client = ZeebeClient(channel)
    worker = ZeebeWorker(channel, poll_retry_delay=0, request_timeout=500)
    seen: list[str] = []

    @worker.task(task_type=pay, max_running_jobs=8, max_jobs_to_activate=4)
    def verify_payment(amount: int) -> dict[str, Any]:
        if amount > 100:
            raise BusinessError("PAYMENT_DECLINED")
        return {"paid": True}

    @worker.task(task_type=notify, max_running_jobs=8, max_jobs_to_activate=4)
    def send_notification(amount: int) -> dict[str, Any]:
        seen.append(f"notified {amount}")
        return {"notified": True}

    @worker.task(task_type=refund, max_running_jobs=8, max_jobs_to_activate=4)
    def refund_order() -> dict[str, Any]:
        return {"refunded": True}

    running = asyncio.create_task(worker.work())
    try:
        assert (await client.healthcheck()).status == 1
        await client.deploy_resource(str(tmp_path / "order.bpmn"))
        happy = await client.run_process_with_result(process_id, {"amount": 10}, timeout=10_000)
        failed = await client.run_process_with_result(process_id, {"amount": 500}, timeout=10_000)
    finally:
        await worker.stop()
        running.cancel()
        await channel.close()
    assert happy.variables == {"amount": 10, "paid": True, "notified": True}
    assert failed.variables == {"amount": 500, "refunded": True}
    assert seen == ["notified 10"]


def _zbctl(target: Target, *args: str) -> Any:
    command = [str(ZBCTL), "--insecure", "--address", target.address, *args]
    # zbctl 8.4 prefers ZEEBE_ADDRESS (set for the real Zeebe) to its --address flag: without this, the
    # local target's commands would go to the real Zeebe.
    env = {name: value for name, value in os.environ.items() if name not in ZBCTL_ADDRESS_VARIABLES}
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip().startswith("{") else done.stdout


@pytest.mark.skipif(not ZBCTL.exists(), reason="zbctl is not installed (make setup installs tools/node)")
async def test_zbctl_deploys_creates_activates_and_completes(target: Target, tmp_path: Path) -> None:
    process_id, job_type = unique("zbctl"), unique("job")
    resource = tmp_path / "process.bpmn"
    resource.write_bytes(one_task_process(process_id, job_type))

    assert "Partition 1" in _zbctl(target, "status")
    deployed = _zbctl(target, "deploy", "resource", str(resource))
    assert deployed["deployments"][0]["process"]["bpmnProcessId"] == process_id
    created = _zbctl(target, "create", "instance", process_id, "--variables", '{"order_id": "order_9"}')
    activated = await asyncio.to_thread(
        _zbctl, target, "activate", "jobs", job_type, "--maxJobsToActivate", "1", "--timeout", "30s"
    )
    [job] = activated["jobs"]
    assert job["processInstanceKey"] == created["processInstanceKey"]
    assert json.loads(job["variables"]) == {"order_id": "order_9"}
    _zbctl(target, "complete", "job", job["key"], "--variables", '{"done": true}')

    async def complete_next() -> None:
        jobs = await asyncio.to_thread(
            _zbctl,
            target,
            "activate",
            "jobs",
            job_type,
            "--maxJobsToActivate",
            "1",
            "--requestTimeout",
            "10s",
        )
        _zbctl(target, "complete", "job", jobs["jobs"][0]["key"], "--variables", '{"second": true}')

    completing = asyncio.create_task(complete_next())
    result = await asyncio.to_thread(
        _zbctl, target, "create", "instance", process_id, "--withResult", "--variables", '{"first": 1}'
    )
    await completing
    assert json.loads(result["variables"]) == {"first": 1, "second": True}
    _zbctl(target, "publish", "message", unique("nobody"), "--correlationKey", "k", "--ttl", "1s")


@pytest.mark.skipif(not ZBCTL.exists(), reason="zbctl is not installed (make setup installs tools/node)")
async def test_zbctl_fails_a_job_and_brings_it_back_after_an_incident(target: Target, tmp_path: Path) -> None:
    process_id, job_type = unique("zbctl-incident"), unique("job")
    resource = tmp_path / "process.bpmn"
    resource.write_bytes(one_task_process(process_id, job_type))
    _zbctl(target, "deploy", "resource", str(resource))
    instance = _zbctl(target, "create", "instance", process_id)["processInstanceKey"]
    [job] = _zbctl(target, "activate", "jobs", job_type, "--maxJobsToActivate", "1")["jobs"]

    _zbctl(target, "fail", "job", job["key"], "--retries", "0", "--errorMessage", "medusa unreachable")
    _zbctl(target, "update", "retries", job["key"], "--retries", "1")
    _zbctl(target, "set", "variables", instance, "--variables", '{"attempt": 2}')
    keys = target.incident_keys(int(instance))
    if keys is not None:  # the gateway API has no incident query: the key is known locally only
        _zbctl(target, "resolve", "incident", str(keys[0]))
        [again] = _zbctl(target, "activate", "jobs", job_type, "--maxJobsToActivate", "1")["jobs"]
        assert json.loads(again["variables"]) == {"attempt": 2}
        _zbctl(target, "throwError", "job", again["key"], "--errorCode", "UNCAUGHT")
        assert len(target.incident_keys(int(instance)) or []) == 1
    _zbctl(target, "cancel", "instance", instance)
