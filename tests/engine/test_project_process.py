"""The project's own process (bpmn/order-fulfillment.bpmn) deploys and runs on the local engine, or on the
Zeebe that ZEEBE_ADDRESS points at. Both keep variables thrown with a BPMN error local to the catch event:
only the model's output mappings carry the cause on to fail-order.

Every test deploys the model under names of its own: the process id, the message names and the job types
carry a suffix unique to the test. On a Zeebe shared with the worker tier (tests/integration), a job of a
production type ("verify-payment", ...) left by these tests would be taken by the real worker."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

import grpc
import pytest

from fulfillment.workflow import CANCELED_MESSAGE_NAME, MESSAGE_NAME, PROCESS_ID, JobType
from localzeebe.launcher import LocalEngine
from worker_job.fail_order import DETAIL_VARIABLE

from .support import REPO_ROOT, Gateway, expect_status

pytestmark = pytest.mark.integration
PROCESS_FILE = REPO_ROOT / "bpmn" / "order-fulfillment.bpmn"


@dataclass(frozen=True)
class Project:
    """The model deployed under this test's names, and the gateway it runs on."""

    gateway: Gateway
    suffix: str

    def job_type(self, job_type: JobType) -> str:
        return f"{job_type}-{self.suffix}"

    def renamed(self, model: bytes) -> bytes:
        """The model with this test's process id, message names and job types (each must occur)."""
        text = model.decode()
        renames = {
            f'id="{PROCESS_ID}"': f'id="{PROCESS_ID}-{self.suffix}"',
            f'bpmnElement="{PROCESS_ID}"': f'bpmnElement="{PROCESS_ID}-{self.suffix}"',
            f'name="{MESSAGE_NAME}"': f'name="{MESSAGE_NAME}-{self.suffix}"',
            f'name="{CANCELED_MESSAGE_NAME}"': f'name="{CANCELED_MESSAGE_NAME}-{self.suffix}"',
        } | {f'type="{job_type}"': f'type="{self.job_type(job_type)}"' for job_type in JobType}
        for name, renamed in renames.items():
            assert name in text, f"the model no longer has {name}: update this test"
            text = text.replace(name, renamed)
        return text.encode()

    async def deploy(self, model: bytes) -> None:
        await self.gateway.deploy(PROCESS_FILE.name, self.renamed(model))

    async def start_order(self, name: str) -> str:
        """Publishes "order-placed" like the webhook and returns the order id (unique to this run)."""
        order_id = f"order_{name}{uuid.uuid4().hex[:10]}"
        await self.gateway.publish(
            f"{MESSAGE_NAME}-{self.suffix}", order_id, 60_000, order_id, {"order_id": order_id}
        )
        return order_id

    async def cancel_order(self, order_id: str) -> None:
        """Publishes "order-canceled" like the webhook."""
        name = f"{CANCELED_MESSAGE_NAME}-{self.suffix}"
        await self.gateway.publish(name, order_id, 60_000, f"{order_id}.canceled", {})

    async def activate_one(self, job_type: JobType, wait_ms: int = 5000) -> Any:
        return await self.gateway.activate_one(self.job_type(job_type), wait_ms=wait_ms)

    async def none_left(self, job_type: JobType, wait_ms: int = 300) -> bool:
        """No job of the type comes within `wait_ms` (a long poll returns as soon as one does)."""
        return await self.gateway.activate(self.job_type(job_type), request_timeout_ms=wait_ms) == []


@pytest.fixture
async def project(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Project]:
    """A fresh local engine per test, or the real Zeebe at ZEEBE_ADDRESS (shared: every test deploys the
    model under its own names)."""
    address = os.environ.get("ZEEBE_ADDRESS")
    process = None
    if not address:
        process = LocalEngine.start(log_path=tmp_path_factory.mktemp("project") / "engine.log")
        address = process.grpc_address
    client = Gateway(address)
    deployed = Project(client, uuid.uuid4().hex[:10])
    await deployed.deploy(PROCESS_FILE.read_bytes())
    yield deployed
    await client.close()
    if process is not None:
        process.stop()


VERIFIED: Final = {"payment_outcome": "verified"}
STEPS: Final = [JobType.VERIFY_PAYMENT, JobType.RESERVE_INVENTORY, JobType.SEND_NOTIFICATION]


async def test_an_order_runs_through_payment_inventory_and_notification(project: Project) -> None:
    order_id = await project.start_order("happy")
    for job_type in STEPS:
        job = await project.activate_one(job_type)
        assert json.loads(job.variables)["order_id"] == order_id
        await project.gateway.complete(job.key, {f"{job_type}_done": True, **VERIFIED})
    assert await project.none_left(JobType.FAIL_ORDER)


async def test_an_unpaid_order_is_checked_again_after_the_interval_then_goes_on(project: Project) -> None:
    await project.start_order("unpaid")
    first = await project.activate_one(JobType.VERIFY_PAYMENT)
    awaiting = {"payment_outcome": "awaiting", "payment_recheck_interval": "PT1S"}
    await project.gateway.complete(first.key, awaiting)
    assert await project.none_left(JobType.VERIFY_PAYMENT), "it waits first"

    second = await project.activate_one(JobType.VERIFY_PAYMENT, wait_ms=10_000)
    assert second.elementId == "VerifyPayment"
    await project.gateway.complete(second.key, VERIFIED)
    assert (await project.activate_one(JobType.RESERVE_INVENTORY)).elementId == "ReserveInventory"


@pytest.mark.parametrize(
    ("policy", "element", "headers"),
    [("cancel", "FailOrderStock", ("true", "true")), ("hold", "HoldOrderStock", ("false", "false"))],
)
async def test_missing_stock_follows_the_policy_thrown_with_the_error(
    project: Project, policy: str, element: str, headers: tuple[str, str]
) -> None:
    order_id = await project.start_order("stock")
    await project.gateway.complete((await project.activate_one(JobType.VERIFY_PAYMENT)).key, VERIFIED)
    reserve = await project.activate_one(JobType.RESERVE_INVENTORY)
    thrown = {DETAIL_VARIABLE: "Mug: 0 of 2", "stock_policy": policy}
    await project.gateway.throw_error(reserve.key, "STOCK_MISSING", "2 items short", thrown)

    fail_order = await project.activate_one(JobType.FAIL_ORDER)
    assert fail_order.elementId == element
    variables = json.loads(fail_order.variables)
    assert variables["failure_status"] == "out_of_stock"
    assert variables["order_id"] == order_id
    assert variables[DETAIL_VARIABLE] == "Mug: 0 of 2"
    custom = json.loads(fail_order.customHeaders)
    assert (custom["cancel_order"], custom["notify"]) == headers
    await project.gateway.complete(fail_order.key)


@pytest.mark.parametrize("step", STEPS)
async def test_the_order_canceled_message_ends_any_step_with_record_canceled(
    project: Project, step: JobType
) -> None:
    order_id = await project.start_order("canceled")
    for earlier in STEPS[: STEPS.index(step)]:
        await project.gateway.complete((await project.activate_one(earlier)).key, VERIFIED)
    running = await project.activate_one(step)

    await project.cancel_order(order_id)

    recorded = await project.activate_one(JobType.RECORD_CANCELED)
    assert recorded.elementId == "RecordCanceled"
    await expect_status(grpc.StatusCode.NOT_FOUND, project.gateway.complete(running.key))
    await project.gateway.complete(recorded.key)
    assert await project.none_left(JobType.SEND_NOTIFICATION)


async def hold_for_staff(project: Project) -> tuple[str, Any]:
    """An order whose stock is missing under the "hold" policy, with HoldOrderStock's job activated."""
    order_id = await project.start_order("held")
    await project.gateway.complete((await project.activate_one(JobType.VERIFY_PAYMENT)).key, VERIFIED)
    reserve = await project.activate_one(JobType.RESERVE_INVENTORY)
    thrown = {DETAIL_VARIABLE: "Mug: 0 of 2", "stock_policy": "hold"}
    await project.gateway.throw_error(reserve.key, "STOCK_MISSING", "2 items short", thrown)
    hold = await project.activate_one(JobType.FAIL_ORDER)
    assert hold.elementId == "HoldOrderStock"
    return order_id, hold


async def test_a_cancel_while_the_hold_is_recorded_ends_the_order_canceled(project: Project) -> None:
    order_id, hold = await hold_for_staff(project)

    await project.cancel_order(order_id)

    recorded = await project.activate_one(JobType.RECORD_CANCELED)
    assert recorded.elementId == "RecordCanceled"
    assert json.loads(recorded.variables)["order_id"] == order_id
    await expect_status(grpc.StatusCode.NOT_FOUND, project.gateway.complete(hold.key))
    await project.gateway.complete(recorded.key)


async def test_a_cancel_while_fail_order_cancels_in_medusa_leaves_that_job_to_finish(
    project: Project,
) -> None:
    # FailOrderPayment's own cancel in Medusa sends order-canceled back while its job runs: the job must
    # not be interrupted between the cancel and its status write (docs/order-fulfillment.md).
    order_id = await project.start_order("failing")
    verify = await project.activate_one(JobType.VERIFY_PAYMENT)
    cause = {DETAIL_VARIABLE: "payment status canceled"}
    await project.gateway.throw_error(verify.key, "PAYMENT_NOT_AUTHORIZED", "canceled", cause)
    fail_order = await project.activate_one(JobType.FAIL_ORDER)
    assert fail_order.elementId == "FailOrderPayment"

    await project.cancel_order(order_id)

    # A real engine correlates asynchronously: a long poll gives an interruption time to show.
    assert await project.none_left(JobType.RECORD_CANCELED, wait_ms=3000), "the cancel interrupted it"
    await project.gateway.complete(fail_order.key)
    assert await project.none_left(JobType.RECORD_CANCELED), "the buffered cancel reached the ended order"


async def test_a_cancellation_during_the_payment_wait_ends_the_order_at_the_next_check(
    project: Project,
) -> None:
    order_id = await project.start_order("waiting")
    await project.gateway.complete(
        (await project.activate_one(JobType.VERIFY_PAYMENT)).key,
        {"payment_outcome": "awaiting", "payment_recheck_interval": "PT1S"},
    )
    # Published while the token waits on the timer: buffered for its time to live.
    await project.cancel_order(order_id)

    recorded = await project.activate_one(JobType.RECORD_CANCELED, wait_ms=10_000)
    assert recorded.elementId == "RecordCanceled"
    assert await project.none_left(JobType.VERIFY_PAYMENT)


async def test_a_worker_that_reads_a_canceled_order_throws_order_canceled(project: Project) -> None:
    await project.start_order("read")
    verify = await project.activate_one(JobType.VERIFY_PAYMENT)
    await project.gateway.throw_error(
        verify.key, "ORDER_CANCELED", "canceled in Medusa", {DETAIL_VARIABLE: "x"}
    )

    assert (await project.activate_one(JobType.RECORD_CANCELED)).elementId == "RecordCanceled"


async def test_unauthorized_payment_takes_the_failure_path_with_its_status(project: Project) -> None:
    await project.start_order("payment")
    verify = await project.activate_one(JobType.VERIFY_PAYMENT)
    cause = {DETAIL_VARIABLE: "payment status not_paid"}
    await project.gateway.throw_error(verify.key, "PAYMENT_NOT_AUTHORIZED", "payment status not_paid", cause)

    fail_order = await project.activate_one(JobType.FAIL_ORDER)
    assert fail_order.elementId == "FailOrderPayment"
    variables = json.loads(fail_order.variables)
    assert variables["failure_status"] == "payment_failed"
    assert variables[DETAIL_VARIABLE] == "payment status not_paid"
    await project.gateway.complete(fail_order.key)
    assert await project.none_left(JobType.RESERVE_INVENTORY)


@pytest.mark.parametrize(
    ("failing_job", "error_code"),
    [(JobType.VERIFY_PAYMENT, "PAYMENT_NOT_AUTHORIZED"), (JobType.RESERVE_INVENTORY, "STOCK_MISSING")],
)
async def test_without_the_output_mappings_the_cause_would_not_reach_fail_order(
    project: Project, failing_job: JobType, error_code: str
) -> None:
    # The model with its catch events' output mappings removed, deployed as the next version: the thrown
    # cause ends with the catch event's scope, which is why the model maps it.
    model = PROCESS_FILE.read_bytes()
    mapping = f'<zeebe:output source="={DETAIL_VARIABLE}" target="{DETAIL_VARIABLE}" />'.encode()
    assert model.count(mapping) == 2, (
        "the model's error catch events no longer map the cause: update this test"
    )
    await project.deploy(model.replace(mapping, b""))
    await project.start_order("unmapped")
    if failing_job == JobType.RESERVE_INVENTORY:
        await project.gateway.complete((await project.activate_one(JobType.VERIFY_PAYMENT)).key, VERIFIED)
    job = await project.activate_one(failing_job)
    thrown = {DETAIL_VARIABLE: "the cause", "stock_policy": "cancel"}
    await project.gateway.throw_error(job.key, error_code, "the cause", thrown)

    fail_order = await project.activate_one(JobType.FAIL_ORDER)
    assert DETAIL_VARIABLE not in json.loads(fail_order.variables)
    await project.gateway.complete(fail_order.key)
