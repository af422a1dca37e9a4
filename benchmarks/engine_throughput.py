"""Throughput of the local engine: instance creations/s and no-op jobs/s drained by a pyzeebe worker.

Starts `python -m localzeebe` itself on free ports, creates N one-task instances through pyzeebe's
ZeebeClient, then lets one pyzeebe ZeebeWorker with a no-op handler drain the N jobs.

    .venv/bin/python -m benchmarks.engine_throughput [--instances 10000] [--log-level warning]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import httpx
from pyzeebe import ZeebeClient, ZeebeWorker, create_insecure_channel

from localzeebe.launcher import LocalEngine

PROCESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="bench" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bench" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="noop"><bpmn:extensionElements>
      <zeebe:taskDefinition type="bench-noop" /></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="noop" />
    <bpmn:sequenceFlow id="f2" sourceRef="noop" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc); NaN elsewhere. Robust to other load on the box."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def create_instances(client: ZeebeClient, count: int, concurrency: int) -> float:
    remaining = iter(range(count))

    async def creator() -> None:
        for _ in remaining:
            await client.run_process("bench", {"n": 1})

    began = time.perf_counter()
    await asyncio.gather(*(creator() for _ in range(concurrency)))
    return count / (time.perf_counter() - began)


async def active_count(http: httpx.AsyncClient) -> int:
    response = await http.get("/process-instances", params={"state": "ACTIVE", "bpmn_process_id": "bench"})
    return len(response.json()["items"])


async def wait_until_drained(http: httpx.AsyncClient, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if await active_count(http) == 0:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError("instances still active after the worker handled every job")


async def drain_jobs(address: str, http: httpx.AsyncClient, count: int, batch: int) -> float:
    channel = create_insecure_channel(address)
    # A small poll_retry_delay and max_running_jobs above max_jobs_to_activate avoid pyzeebe's stall.
    worker = ZeebeWorker(channel, poll_retry_delay=0, request_timeout=1000, max_connection_retries=-1)

    handled = 0
    all_handled = asyncio.Event()

    async def noop() -> dict[str, Any]:
        nonlocal handled
        handled += 1
        if handled == count:
            all_handled.set()
        return {}

    # pyzeebe's overloaded task decorator does not type-check for async handlers under mypy
    register = cast(Any, worker.task)
    register("bench-noop", timeout_ms=30_000, max_jobs_to_activate=batch, max_running_jobs=batch * 4)(noop)
    began = time.perf_counter()
    running = asyncio.create_task(worker.work())
    await all_handled.wait()  # then wait for the last completions to reach the engine
    await wait_until_drained(http)
    elapsed = time.perf_counter() - began
    await worker.stop()
    running.cancel()
    await channel.close()
    return count / elapsed


async def run(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        bpmn = Path(scratch) / "bench.bpmn"
        bpmn.write_bytes(PROCESS)
        log_path = Path(scratch) / "engine.log"
        with LocalEngine.start(log_level=arguments.log_level, log_path=log_path) as engine:
            channel = create_insecure_channel(engine.grpc_address)
            client = ZeebeClient(channel)
            await client.deploy_resource(str(bpmn))
            cpu_start = cpu_seconds(engine.pid)
            creations = await create_instances(client, arguments.instances, arguments.concurrency)
            cpu_created = cpu_seconds(engine.pid)
            async with httpx.AsyncClient(base_url=engine.http_url, timeout=30) as http:
                jobs = await drain_jobs(engine.grpc_address, http, arguments.instances, arguments.batch)
            cpu_drained = cpu_seconds(engine.pid)
            await channel.close()
    load = os.getloadavg()
    print(
        f"instances: {arguments.instances}  engine log level: {arguments.log_level}  cores: {os.cpu_count()}"
    )
    print(f"instance creations/s (pyzeebe ZeebeClient, {arguments.concurrency} concurrent): {creations:,.0f}")
    print(f"no-op jobs/s (one pyzeebe ZeebeWorker, batches of {arguments.batch}): {jobs:,.0f}")
    per_instance = (cpu_created - cpu_start) / arguments.instances * 1e6
    per_job = (cpu_drained - cpu_created) / arguments.instances * 1e6
    print(f"engine CPU: {per_instance:,.0f} us per instance creation, {per_job:,.0f} us per job")
    print(f"load average after the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent CreateProcessInstance calls")
    parser.add_argument("--batch", type=int, default=64, help="the worker's max_jobs_to_activate")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning"])
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
