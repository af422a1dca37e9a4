"""At most one mail per order and template across worker instances, through Medusa's Notification Module.

A job can run twice: the worker that ran it first died after its status write (which carries the mail)
and before completing the job, and the engine hands the job to another worker once its timeout passed.
Here the first run is the real handler code in this test process (worker A), which records `completed`
with the confirmation and never completes the job; the second run is the stack's worker process (B). B's
write finds `completed` already stored and the mail's marker set, so the customer gets one mail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc as pb_grpc

from devstack.stack import Stack
from fulfillment.medusa import MedusaClient
from worker_job.job_context import JobContext
from worker_job.order_reads import OrderReader
from worker_job.reserve_inventory import reserve_inventory
from worker_job.send_notification import send_notification
from worker_job.services import Services
from worker_job.status_reporter import StatusReporter
from worker_job.verify_payment import verify_payment

from .support import Driver, poll

pytestmark = pytest.mark.e2e


class FirstWorker:
    """Worker A: activates jobs over the gateway and runs the project's handlers in this process."""

    def __init__(self, stack: Stack) -> None:
        assert stack.secrets is not None
        self.gateway = pb_grpc.GatewayStub(grpc.insecure_channel(stack.engine_address))
        self.medusa = MedusaClient(stack.medusa_url, stack.secrets.medusa_worker)
        self.status = StatusReporter(stack.status_update_url, stack.secrets.status_update)
        self.services = Services(self.medusa, OrderReader(self.medusa), self.status)

    def activate(self, job_type: str, order_id: str, timeout_ms: int) -> Any:
        request = pb.ActivateJobsRequest(
            type=job_type,
            worker="first-worker",
            timeout=timeout_ms,
            maxJobsToActivate=1,
            requestTimeout=10_000,
        )
        found: list[Any] = []

        def activated() -> bool:
            for response in self.gateway.ActivateJobs(request, timeout=20):
                found.extend(response.jobs)
            return bool(found)

        poll(activated, 60, lambda: f"a {job_type} job")
        (job,) = found
        assert json.loads(job.variables)["order_id"] == order_id, (
            "another order's job: the engine is not idle"
        )
        return job

    @staticmethod
    def context(job: Any) -> JobContext:
        variables = json.loads(job.variables)
        return JobContext(
            job.type, job.processInstanceKey, variables["order_id"], json.loads(job.customHeaders), variables
        )

    def run_and_complete(self, job_type: str, order_id: str) -> None:
        job = self.activate(job_type, order_id, timeout_ms=60_000)
        handler = verify_payment if job_type == "verify-payment" else reserve_inventory
        result = handler(self.context(job), self.services)
        self.gateway.CompleteJob(
            pb.CompleteJobRequest(jobKey=job.key, variables=json.dumps(result)), timeout=10
        )

    def close(self) -> None:
        self.medusa.close()
        self.status.close()


@pytest.fixture
def first_worker(stack: Stack) -> Iterator[FirstWorker]:
    worker = FirstWorker(stack)
    yield worker
    worker.close()


def test_a_job_run_again_on_a_second_worker_process_sends_no_second_mail(
    stack: Stack, driver: Driver, first_worker: FirstWorker
) -> None:
    stack.stop_part("worker")
    try:
        order = driver.place_order()
        first_worker.run_and_complete("verify-payment", order.id)
        first_worker.run_and_complete("reserve-inventory", order.id)
        # Worker A takes the notification job for 3 s, records completed with the mail, and dies silently.
        job = first_worker.activate("send-notification", order.id, timeout_ms=3_000)
        result = send_notification(first_worker.context(job), first_worker.services)
        assert result == {"notification_sent": "order-confirmation", "notification_repeated": False}
        assert driver.mails(order.id) == ["order-confirmation"], "Medusa mailed for worker A"

        stack.start_worker()  # worker B gets the job once A's timeout has passed

        metadata = driver.wait_for_status(order.id, timeout=60)
    finally:
        stack.stop_part("worker")
        stack.start_worker()

    assert metadata["workflow_status"] == "completed", metadata
    assert metadata["workflow_mail_order_confirmation"].startswith("noti_")
    notifications = driver.admin.get("/admin/notifications", to=order.email, limit=100)["notifications"]
    mine = [n for n in notifications if (n.get("data") or {}).get("order_id") == order.id]
    assert [n["template"] for n in mine] == ["order-confirmation"], mine
    assert driver.mails(order.id) == ["order-confirmation"], "worker B's write mailed nobody"
    (instance,) = driver.instances(order.id)
    assert driver.engine.instance(instance["key"])["variables"]["notification_repeated"] is True
