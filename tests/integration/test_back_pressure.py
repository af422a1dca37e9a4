"""The project's clients while the engine is in back-pressure (the local engine's `--back-pressure SHARE`
answers that share of the commands Zeebe limits with RESOURCE_EXHAUSTED).

Real parts as in the worker tier (test_worker.py, whose Medusa stand-in and fixtures are reused here): the
engine, the worker process, the order webhook and the status function served by the functions-framework.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fulfillment.signatures import sign_headers
from localzeebe.launcher import LocalEngine

from . import test_worker as worker_tier
from .served import ServedFunction, serve_function

pytestmark = pytest.mark.integration

# The worker tier's fixtures, resolved against this module's `engine` (the one in back-pressure).
medusa = worker_tier.medusa
status_function = worker_tier.status_function
start_worker = worker_tier.start_worker

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"back-pressure-webhook-secret").decode()
SHARE = "0.3"
FLOW_TIMEOUT = 120.0


def _start_engine(log: Path, share: str) -> tuple[LocalEngine, worker_tier.Engine]:
    launched = LocalEngine.start(log_path=log, options=["--back-pressure", share])
    return launched, worker_tier.Engine(launched.grpc_address, launched.http_url)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[worker_tier.Engine]:
    launched, running = _start_engine(tmp_path_factory.mktemp("pressure") / "engine.log", SHARE)
    yield running
    launched.stop()


def _webhook(engine: worker_tier.Engine, log: Path) -> Any:
    settings = {"ORDER_WEBHOOK_SECRET": WEBHOOK_SECRET, "ZEEBE_ADDRESS": engine.grpc_address}
    return serve_function("order_webhook", settings, log_path=log)


def _send_order_placed(
    webhook: ServedFunction, medusa: worker_tier.FakeMedusa, order_id: str
) -> httpx.Response:
    """The event as the plugin signs it after reading the order."""
    order = medusa.orders[order_id]
    data = {key: order[key] for key in ("id", "display_id", "currency_code", "total", "created_at")}
    data["workflow_status"] = order["metadata"].get("workflow_status")
    body = json.dumps({"type": "order.placed", "occurred_at": "2026-11-29T20:00:00Z", "data": data})
    headers = {"content-type": "application/json", **sign_headers(WEBHOOK_SECRET, body.encode())}
    return httpx.post(webhook.url, content=body, headers=headers, timeout=30)


def test_the_webhook_answers_503_with_retry_after_when_every_command_is_refused(
    medusa: worker_tier.FakeMedusa, tmp_path: Path
) -> None:
    launched, saturated = _start_engine(tmp_path / "engine.log", "1")
    medusa.add_order("order_saturated1")
    try:
        with _webhook(saturated, tmp_path / "order_webhook.log") as webhook:
            response = _send_order_placed(webhook, medusa, "order_saturated1")
            assert response.status_code == 503, response.text
            assert int(response.headers["Retry-After"]) > 0
            assert response.json()["error"] == "engine_unavailable"
            assert "ZeebeBackPressureError" in webhook.output()
    finally:
        launched.stop()


def test_orders_started_through_back_pressure_all_finish_with_every_job_completed(
    medusa: worker_tier.FakeMedusa,
    engine: worker_tier.Engine,
    start_worker: Callable[..., worker_tier.WorkerRun],
    tmp_path: Path,
) -> None:
    fulfilled = [f"order_pressure{n}" for n in range(1, 6)]
    for order_id in fulfilled:
        medusa.add_order(order_id)
    medusa.add_order("order_pressureunpaid", payment_status="canceled", authorized_amount=0)
    orders = [*fulfilled, "order_pressureunpaid"]
    # The deploy step, before any order is sent (deploying is never limited by back-pressure).
    engine.deploy_model()

    refused = 0
    with _webhook(engine, tmp_path / "order_webhook.log") as webhook:
        for order_id in orders:
            # The shop's subscriber sends again after a 503 (Retry-After); here at once, to keep it short.
            while (response := _send_order_placed(webhook, medusa, order_id)).status_code == 503:
                assert "Retry-After" in response.headers
                refused += 1
            assert (response.status_code, response.json()["status"]) == (202, "started"), response.text
    assert refused >= 1, "the engine's back-pressure never refused a publication"

    worker = start_worker()
    for order_id in orders:
        instance = worker_tier.wait_for_outcome(engine, medusa, order_id, timeout=FLOW_TIMEOUT)
        assert instance is not None
        assert instance["state"] == "COMPLETED", instance
        assert not instance["incidents"], instance["incidents"]
    for order_id in fulfilled:
        assert medusa.statuses(order_id) == worker_tier.FULFILLED
    assert medusa.statuses("order_pressureunpaid") == ["payment_failed"]
    assert "payment status is 'canceled'" in medusa.metadata("order_pressureunpaid")["workflow_message"]
    assert worker.process.poll() is None
    assert any("ZeebeBackPressureError" in json.dumps(entry) for entry in worker.lines()), (
        "the worker never met back-pressure: the test did not exercise it"
    )
    # No job was left behind (to time out and run twice) ...
    jobs = httpx.get(f"{engine.http_url}/jobs").json()["items"]
    left = [job for job in jobs if job["state"] in {"ACTIVATABLE", "ACTIVATED", "FAILED"}]
    assert not left, left
    # ... and each job ran once: 3 per fulfilled order, verify-payment and fail-order for the unpaid one.
    runs = [e["message"] for e in worker.lines() if re.fullmatch(r"job \S+ started.*", e.get("message", ""))]
    assert len(runs) == len(fulfilled) * 3 + 2, runs
