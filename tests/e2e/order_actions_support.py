"""The admin's order actions as the end-to-end and browser tests drive them: the plugin's admin routes, and
the engine through its gRPC gateway where the tests play Operate (cancel an instance) or a worker out of
retries (fail a job with none left, so the engine raises an incident)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import httpx
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto.gateway_pb2_grpc import GatewayStub

from devstack.stack import Stack

from .support import Driver, poll

ROOT = "/admin/fulfillment-workflow/orders"


class OrderActions:
    """The admin routes of one Medusa, called as a logged-in admin (a Bearer token)."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=60)

    def close(self) -> None:
        self.http.close()

    def actions(self, order_id: str) -> httpx.Response:
        return self.http.get(f"{ROOT}/{order_id}/actions")

    def restart(self, order_id: str, reason: str | None) -> httpx.Response:
        body = {} if reason is None else {"reason": reason}
        return self.http.post(f"{ROOT}/{order_id}/restart", json=body)

    def retry(self, order_id: str, incident_key: str) -> httpx.Response:
        return self.http.post(f"{ROOT}/{order_id}/incidents/{incident_key}/retry")

    def resend(self, order_id: str) -> httpx.Response:
        return self.http.post(f"{ROOT}/{order_id}/resend")

    def me(self) -> dict[str, Any]:
        user: dict[str, Any] = self.http.get("/admin/users/me").raise_for_status().json()["user"]
        return user


@contextmanager
def no_worker(stack: Stack) -> Iterator[None]:
    """The stack's worker stopped, so an order's process waits at its first job; started again after."""
    stack.stop_part("worker")
    try:
        yield
    finally:
        stack.start_worker()


def active_instance(driver: Driver, order_id: str, timeout: float = 60) -> dict[str, Any]:
    """The order's one ACTIVE process instance, once the engine has it."""
    found: list[dict[str, Any]] = []

    def started() -> bool:
        found[:] = [i for i in driver.instances(order_id) if i["state"] == "ACTIVE"]
        return len(found) == 1

    poll(started, timeout, lambda: f"one active instance of {order_id}: {driver.instances(order_id)}")
    return found[0]


def cancel_instance(stack: Stack, instance_key: int | str) -> None:
    """What "Cancel" in Operate does: CancelProcessInstance through the gateway."""
    with grpc.insecure_channel(stack.engine_address) as channel:
        GatewayStub(channel).CancelProcessInstance(
            pb.CancelProcessInstanceRequest(processInstanceKey=int(instance_key)), timeout=10
        )


def fail_job_without_retries(stack: Stack, order_id: str, job_type: str, message: str) -> int:
    """Activates the order's `job_type` job and fails it with no retries left, as a worker after its outage
    window does: the engine raises a JOB_NO_RETRIES incident. Jobs of other orders are handed back at once
    with their retries unchanged. Returns the job's key."""
    with grpc.insecure_channel(stack.engine_address) as channel:
        stub = GatewayStub(channel)
        request = pb.ActivateJobsRequest(
            type=job_type, worker="e2e-operator", timeout=30_000, maxJobsToActivate=32, requestTimeout=5_000
        )
        ours: int | None = None
        for response in stub.ActivateJobs(request, timeout=15):
            for job in response.jobs:
                if f'"{order_id}"' in job.variables and ours is None:
                    ours = job.key
                    failed = pb.FailJobRequest(jobKey=job.key, retries=0, errorMessage=message)
                    stub.FailJob(failed, timeout=10)
                else:
                    stub.FailJob(pb.FailJobRequest(jobKey=job.key, retries=job.retries), timeout=10)
        assert ours is not None, f"no {job_type} job for {order_id} could be activated"
        return ours
