"""The project's own process (bpmn/order-fulfillment.bpmn) deploys and runs on the local engine, or on the
Zeebe that ZEEBE_ADDRESS points at. Both keep variables thrown with a BPMN error local to the catch event:
only the model's output mappings carry the cause on to fail-order."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator

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


async def test_an_order_runs_through_payment_inventory_and_notification(engine: Gateway) -> None:
    order_id = await _start_order(engine, "happy")
    for job_type in ["verify-payment", "reserve-inventory", "send-notification"]:
        job = await engine.activate_one(job_type)
        assert json.loads(job.variables)["order_id"] == order_id
        await engine.complete(job.key, {f"{job_type}_done": True})
    assert await engine.activate("fail-order", request_timeout_ms=300) == []


async def test_missing_stock_takes_the_failure_path_with_its_status(engine: Gateway) -> None:
    order_id = await _start_order(engine, "stock")
    await engine.complete((await engine.activate_one("verify-payment")).key)
    reserve = await engine.activate_one("reserve-inventory")
    await engine.throw_error(reserve.key, "STOCK_MISSING", "2 items short", {DETAIL_VARIABLE: "Mug: 0 of 2"})

    fail_order = await engine.activate_one("fail-order")
    assert fail_order.elementId == "FailOrderStock"
    variables = json.loads(fail_order.variables)
    assert variables["failure_status"] == "out_of_stock"
    assert variables["order_id"] == order_id
    assert variables[DETAIL_VARIABLE] == "Mug: 0 of 2"
    await engine.complete(fail_order.key)


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


async def test_a_hanging_reservation_times_out_into_the_failed_path(engine: Gateway) -> None:
    # The same model with its 15-minute step timeout shortened, deployed as the next version.
    model = PROCESS_FILE.read_bytes()
    quick = model.replace(b">PT15M<", b">PT1S<")
    assert quick != model, "the model's step timeout is no longer PT15M: update this test"
    await engine.deploy(PROCESS_FILE.name, quick)
    await _start_order(engine, "hanging")
    await engine.complete((await engine.activate_one("verify-payment")).key)
    hanging = await engine.activate_one("reserve-inventory", timeout_ms=60_000)  # taken, never answered

    fail_order = await engine.activate_one("fail-order", wait_ms=5000)
    assert fail_order.elementId == "FailOrderTimeout"
    assert json.loads(fail_order.variables)["failure_status"] == "failed"
    # The interrupting timer cancelled the hanging job: a late answer from its worker is refused.
    await expect_status(grpc.StatusCode.NOT_FOUND, engine.complete(hanging.key))
    await engine.complete(fail_order.key)


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
        await engine.complete((await engine.activate_one("verify-payment")).key)
    job = await engine.activate_one(failing_job)
    await engine.throw_error(job.key, error_code, "the cause", {DETAIL_VARIABLE: "the cause"})

    fail_order = await engine.activate_one("fail-order")
    assert DETAIL_VARIABLE not in json.loads(fail_order.variables)
    await engine.complete(fail_order.key)
