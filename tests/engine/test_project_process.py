"""The project's own process (bpmn/order-fulfillment.bpmn) deploys and runs on the local engine, or on the
Zeebe that ZEEBE_ADDRESS points at. Both keep variables thrown with a BPMN error local to the catch event:
only the model's output mappings carry the cause on to fail-order."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Final

import grpc
import pytest

from localzeebe.launcher import LocalEngine
from worker_job.failure import DETAIL_VARIABLE

from .support import REPO_ROOT, Gateway, expect_status

pytestmark = pytest.mark.integration
PROCESS_FILE = REPO_ROOT / "bpmn" / "order-fulfillment.bpmn"


@pytest.fixture
async def engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """A fresh local engine per test, or the real Zeebe at ZEEBE_ADDRESS (shared: every test deploys the
    model again, which makes it the latest version, and uses order ids of its own)."""
    address = os.environ.get("ZEEBE_ADDRESS")
    process = None
    if not address:
        process = LocalEngine.start(log_path=tmp_path_factory.mktemp("project") / "engine.log")
        address = process.grpc_address
    client = Gateway(address)
    await client.deploy(PROCESS_FILE.name, PROCESS_FILE.read_bytes())
    yield client
    await client.close()
    if process is not None:
        process.stop()


async def _start_order(engine: Gateway, name: str) -> str:
    """Publishes "order-placed" like the webhook and returns the order id (unique to this run)."""
    order_id = f"order_{name}{uuid.uuid4().hex[:10]}"
    await engine.publish("order-placed", order_id, 60_000, order_id, {"order_id": order_id})
    return order_id


VERIFIED: Final = {"payment_outcome": "verified"}


async def test_an_order_runs_through_payment_inventory_and_notification(engine: Gateway) -> None:
    order_id = await _start_order(engine, "happy")
    for job_type in ["verify-payment", "reserve-inventory", "send-notification"]:
        job = await engine.activate_one(job_type)
        assert json.loads(job.variables)["order_id"] == order_id
        await engine.complete(job.key, {f"{job_type}_done": True, **VERIFIED})
    assert await engine.activate("fail-order", request_timeout_ms=300) == []


async def test_an_unpaid_order_is_checked_again_after_the_interval_then_goes_on(engine: Gateway) -> None:
    await _start_order(engine, "unpaid")
    first = await engine.activate_one("verify-payment")
    awaiting = {"payment_outcome": "awaiting", "payment_recheck_interval": "PT1S"}
    await engine.complete(first.key, awaiting)
    assert await engine.activate("verify-payment", request_timeout_ms=300) == [], "it waits first"

    second = await engine.activate_one("verify-payment", wait_ms=10_000)
    assert second.elementId == "VerifyPayment"
    await engine.complete(second.key, VERIFIED)
    assert (await engine.activate_one("reserve-inventory")).elementId == "ReserveInventory"


@pytest.mark.parametrize(
    ("policy", "element", "headers"),
    [("cancel", "FailOrderStock", ("true", "true")), ("hold", "HoldOrderStock", ("false", "false"))],
)
async def test_missing_stock_follows_the_policy_thrown_with_the_error(
    engine: Gateway, policy: str, element: str, headers: tuple[str, str]
) -> None:
    order_id = await _start_order(engine, "stock")
    await engine.complete((await engine.activate_one("verify-payment")).key, VERIFIED)
    reserve = await engine.activate_one("reserve-inventory")
    thrown = {DETAIL_VARIABLE: "Mug: 0 of 2", "stock_policy": policy}
    await engine.throw_error(reserve.key, "STOCK_MISSING", "2 items short", thrown)

    fail_order = await engine.activate_one("fail-order")
    assert fail_order.elementId == element
    variables = json.loads(fail_order.variables)
    assert variables["failure_status"] == "out_of_stock"
    assert variables["order_id"] == order_id
    assert variables[DETAIL_VARIABLE] == "Mug: 0 of 2"
    custom = json.loads(fail_order.customHeaders)
    assert (custom["cancel_order"], custom["notify"]) == headers
    await engine.complete(fail_order.key)


@pytest.mark.parametrize("job_type", ["verify-payment", "reserve-inventory", "send-notification"])
async def test_the_order_canceled_message_ends_any_step_with_record_canceled(
    engine: Gateway, job_type: str
) -> None:
    order_id = await _start_order(engine, "canceled")
    steps = ["verify-payment", "reserve-inventory", "send-notification"]
    for earlier in steps[: steps.index(job_type)]:
        await engine.complete((await engine.activate_one(earlier)).key, VERIFIED)
    running = await engine.activate_one(job_type)

    await engine.publish("order-canceled", order_id, 60_000, f"{order_id}.canceled", {})

    recorded = await engine.activate_one("record-canceled")
    assert recorded.elementId == "RecordCanceled"
    await expect_status(grpc.StatusCode.NOT_FOUND, engine.complete(running.key))
    await engine.complete(recorded.key)
    assert await engine.activate("send-notification", request_timeout_ms=300) == []


async def test_a_cancellation_during_the_payment_wait_ends_the_order_at_the_next_check(
    engine: Gateway,
) -> None:
    order_id = await _start_order(engine, "waiting")
    await engine.complete(
        (await engine.activate_one("verify-payment")).key,
        {"payment_outcome": "awaiting", "payment_recheck_interval": "PT1S"},
    )
    # Published while the token waits on the timer: buffered for its time to live.
    await engine.publish("order-canceled", order_id, 60_000, f"{order_id}.canceled", {})

    recorded = await engine.activate_one("record-canceled", wait_ms=10_000)
    assert recorded.elementId == "RecordCanceled"
    assert await engine.activate("verify-payment", request_timeout_ms=300) == []


async def test_a_worker_that_reads_a_canceled_order_throws_order_canceled(engine: Gateway) -> None:
    await _start_order(engine, "read")
    verify = await engine.activate_one("verify-payment")
    await engine.throw_error(verify.key, "ORDER_CANCELED", "canceled in Medusa", {DETAIL_VARIABLE: "x"})

    assert (await engine.activate_one("record-canceled")).elementId == "RecordCanceled"


async def test_unauthorized_payment_takes_the_failure_path_with_its_status(engine: Gateway) -> None:
    await _start_order(engine, "payment")
    verify = await engine.activate_one("verify-payment")
    cause = {DETAIL_VARIABLE: "payment status not_paid"}
    await engine.throw_error(verify.key, "PAYMENT_NOT_AUTHORIZED", "payment status not_paid", cause)

    fail_order = await engine.activate_one("fail-order")
    assert fail_order.elementId == "FailOrderPayment"
    variables = json.loads(fail_order.variables)
    assert variables["failure_status"] == "payment_failed"
    assert variables[DETAIL_VARIABLE] == "payment status not_paid"
    await engine.complete(fail_order.key)
    assert await engine.activate("reserve-inventory", request_timeout_ms=300) == []


@pytest.mark.parametrize(
    ("failing_job", "error_code"),
    [("verify-payment", "PAYMENT_NOT_AUTHORIZED"), ("reserve-inventory", "STOCK_MISSING")],
)
async def test_without_the_output_mappings_the_cause_would_not_reach_fail_order(
    engine: Gateway, failing_job: str, error_code: str
) -> None:
    # The model with its catch events' output mappings removed, deployed as the next version: the thrown
    # cause ends with the catch event's scope, which is why the model maps it.
    model = PROCESS_FILE.read_bytes()
    mapping = f'<zeebe:output source="={DETAIL_VARIABLE}" target="{DETAIL_VARIABLE}" />'.encode()
    assert model.count(mapping) == 2, (
        "the model's error catch events no longer map the cause: update this test"
    )
    await engine.deploy(PROCESS_FILE.name, model.replace(mapping, b""))
    await _start_order(engine, "unmapped")
    if failing_job == "reserve-inventory":
        await engine.complete((await engine.activate_one("verify-payment")).key, VERIFIED)
    job = await engine.activate_one(failing_job)
    thrown = {DETAIL_VARIABLE: "the cause", "stock_policy": "cancel"}
    await engine.throw_error(job.key, error_code, "the cause", thrown)

    fail_order = await engine.activate_one("fail-order")
    assert DETAIL_VARIABLE not in json.loads(fail_order.variables)
    await engine.complete(fail_order.key)
