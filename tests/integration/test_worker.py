"""The worker as a real process against the real local engine and the real status function.

Real parts: `python -m localzeebe` (engine, gRPC on loopback), `python -m worker_job` (the worker),
functions/status_update served by the real functions-framework, and the engine bridge the order webhook
uses to publish "order-placed". Medusa with the plugin is a small loopback stand-in (FakeMedusa below): the
worker tier checks the worker's decisions, retries and lifecycle, and the e2e tier runs the same paths
against a real Medusa 2.x. The stand-in speaks the plugin's routes as docs/contracts.md has them: signed
POSTs to `/fulfillment-workflow/orders/{id}/view|cancel|status`, each verified with its one caller's secret
(401 for any other), the compare-and-set of the status route, and the mail that goes with a status, sent
once it is recorded and at most once per order and template.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.stack import local_deploy_settings
from fulfillment.engine import EngineBridge
from fulfillment.errors import InvalidSignature
from fulfillment.settings import EngineSettings
from fulfillment.signatures import verify
from fulfillment.workflow import WorkflowStatus
from localzeebe.launcher import LocalEngine
from worker_job.deploy_model import deploy_models

from .served import serve_function

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
WORKER_SECRET = "whsec_" + base64.b64encode(b"worker-integration-plugin-secret").decode()
MEDUSA_STATUS_SECRET = "whsec_" + base64.b64encode(b"status-function-plugin-secret-32").decode()
STATUS_SECRET = "whsec_" + base64.b64encode(b"worker-integration-status-secret").decode()
READY_TIMEOUT = 30.0
FLOW_TIMEOUT = 45.0
FULFILLED = ["payment_verified", "inventory_reserved", "completed"]
# The statuses the plugin's status route takes for a canceled order (they end a process unfulfilled).
ENDS_UNFULFILLED = {"canceled", "payment_failed", "out_of_stock", "cancel_refused"}


# --- Medusa stand-in -------------------------------------------------------------------------------------


@dataclass
class FakeMedusa:
    """Orders, their views, cancels, status writes and mails, served on loopback like the plugin's routes."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    metadata_writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # (order id, action) of every call the plugin accepted, in order.
    calls: list[tuple[str, str]] = field(default_factory=list)
    refused_secrets: list[str] = field(default_factory=list)
    # Orders whose view was asked for (recorded before any delay), and how long to hold such an answer.
    view_requests: list[str] = field(default_factory=list)
    view_delay_seconds: dict[str, float] = field(default_factory=dict)
    # Orders whose view answer waits until the test sets the event.
    view_gates: dict[str, threading.Event] = field(default_factory=dict)
    # (time.monotonic(), action) of every call the plugin's routes received, as it arrived.
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    # Calls received and not yet answered (counted down before the answer is written, so the caller's next
    # call can never be counted while this one still is), and the most there ever were at once.
    under_way: int = 0
    most_under_way: int = 0
    under_way_lock: threading.Lock = field(default_factory=threading.Lock)
    failing_writes: dict[str, int] = field(default_factory=dict)
    # Orders Medusa will not cancel (a fulfillment exists), with Medusa's reason.
    uncancelable: dict[str, str] = field(default_factory=dict)
    cancellations: list[str] = field(default_factory=list)
    # (order id, status written with it, notification) of every mail sent.
    mails: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def add_order(
        self,
        order_id: str,
        *,
        payment_status: str = "authorized",
        authorized_amount: float = 30.0,
        reserved_quantity: int | None = 2,
    ) -> None:
        line_item_id = f"ordli_{order_id.removeprefix('order_')}"
        reservations = []
        if reserved_quantity:
            reservations.append(
                {
                    "id": f"res_{order_id}",
                    "line_item_id": line_item_id,
                    "inventory_item_id": "iitem_mug",
                    "location_id": "sloc_1",
                    "quantity": reserved_quantity,
                }
            )
        self.orders[order_id] = {
            "id": order_id,
            "display_id": len(self.orders) + 1,
            "status": "pending",
            "currency_code": "eur",
            "total": 30.0,
            "created_at": "2026-11-28T08:00:00.000Z",
            "payment_status": payment_status,
            "payment_collections": [
                {
                    "id": f"pay_col_{order_id}",
                    "status": payment_status,
                    "amount": 30.0,
                    "authorized_amount": authorized_amount,
                    "captured_amount": 0,
                    "refunded_amount": 0,
                }
            ],
            "items": [
                {
                    "id": line_item_id,
                    "title": "Mug",
                    "variant_id": "variant_mug",
                    "variant_sku": "MUG",
                    "quantity": 2,
                    "detail": {"fulfilled_quantity": 0},
                    "variant": {
                        "manage_inventory": True,
                        "inventory_items": [{"inventory_item_id": "iitem_mug", "required_quantity": 1}],
                    },
                }
            ],
            "reservations": reservations,
            "metadata": {"gift_note": "kept"},
        }

    def statuses(self, order_id: str) -> list[str]:
        with self.lock:
            return [meta["workflow_status"] for oid, meta in self.metadata_writes if oid == order_id]

    def metadata(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            return dict(self.orders[order_id]["metadata"])

    def calls_for(self, order_id: str) -> list[str]:
        with self.lock:
            return [action for oid, action in self.calls if oid == order_id]

    def mails_for(self, order_id: str) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(status, mail) for oid, status, mail in self.mails if oid == order_id]

    # The routes (called by the handler under self.lock) -------------------------------------------------

    def view(self, order: dict[str, Any]) -> dict[str, Any]:
        view = {key: value for key, value in order.items() if key != "metadata"}
        view["workflow"] = {k: v for k, v in order["metadata"].items() if k.startswith("workflow_")}
        return {"order": view}

    def cancel(self, order: dict[str, Any]) -> dict[str, Any]:
        """Medusa's cancel workflow: refused with a reason, or the order canceled with its reservations
        released and its payment canceled."""
        answer: dict[str, Any] = {"reason": None, "captured_amount": 0, "refunded_amount": 0}
        if order["id"] in self.uncancelable:
            return {**answer, "outcome": "refused", "reason": self.uncancelable[order["id"]]}
        if order["status"] == "canceled":
            return {**answer, "outcome": "already_canceled"}
        order["status"] = "canceled"
        order["reservations"] = []
        for collection in order["payment_collections"]:
            collection["status"] = "canceled"
        self.cancellations.append(order["id"])
        return {**answer, "outcome": "canceled"}

    def write_status(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """The compare-and-set of the workflow keys, and the mail once the status is recorded."""
        stored = order["metadata"].get("workflow_status")
        written = body["metadata"]["workflow_status"]
        canceled = order["status"] == "canceled" and written not in ENDS_UNFULFILLED
        applied = not canceled and stored in body["replaces"]
        if applied:
            order["metadata"] = {**order["metadata"], **body["metadata"]}
            self.metadata_writes.append((order["id"], dict(body["metadata"])))
        workflow = {k: v for k, v in order["metadata"].items() if k.startswith("workflow_")}
        reason = None if applied else ("order_canceled" if canceled else "stale")
        answer: dict[str, Any] = {"applied": applied, "reason": reason, "metadata": workflow}
        if "notification" in body:
            answer["notification"] = self._mail(
                order, body["notification"], recorded=applied or stored == written
            )
        return answer

    def _mail(self, order: dict[str, Any], mail: dict[str, Any], *, recorded: bool) -> dict[str, Any]:
        if not recorded:
            return {"sent": False, "reason": "not_recorded"}
        marker = f"workflow_mail_{mail['template']}"
        if order["metadata"].get(marker):
            return {"sent": False, "reason": "duplicate"}
        order["metadata"][marker] = True
        self.mails.append((order["id"], order["metadata"]["workflow_status"], mail))
        return {"sent": True, "reason": None}


# Each route accepts exactly one caller's secret.
ROUTE_SECRETS = {"view": WORKER_SECRET, "cancel": WORKER_SECRET, "status": MEDUSA_STATUS_SECRET}


def _handler_for(medusa: FakeMedusa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any] | str) -> None:
            page = isinstance(body, str)
            payload = (body if isinstance(body, str) else json.dumps(body)).encode()
            with medusa.under_way_lock:
                medusa.under_way -= 1
            self.send_response(status)
            self.send_header("content-type", "text/html" if page else "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            with medusa.under_way_lock:
                medusa.under_way += 1
                medusa.most_under_way = max(medusa.most_under_way, medusa.under_way)
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            match = re.fullmatch(r"/fulfillment-workflow/orders/(order_\w+)/(view|cancel|status)", self.path)
            if not match:
                self._send(404, f"<pre>Cannot POST {self.path}</pre>")  # Express's own page
                return
            order_id, action = match.groups()
            with medusa.lock:
                medusa.arrivals.append((time.monotonic(), action))
            try:
                verify([ROUTE_SECRETS[action]], dict(self.headers.items()), raw)
            except InvalidSignature:
                with medusa.lock:
                    medusa.refused_secrets.append(action)
                self._send(401, {"message": "Unauthorized"})
                return
            body = json.loads(raw)
            if (body.get("action"), body.get("order_id")) != (action, order_id):
                self._send(400, {"message": "the body does not name this route and order"})
                return
            self._answer(order_id, action, body)

        def _answer(self, order_id: str, action: str, body: dict[str, Any]) -> None:
            if order_id not in medusa.orders:
                self._send(404, {"type": "not_found", "message": f"Order id not found: {order_id}"})
                return
            if action == "view":
                with medusa.lock:
                    medusa.view_requests.append(order_id)
                time.sleep(medusa.view_delay_seconds.get(order_id, 0))
                if order_id in medusa.view_gates:
                    medusa.view_gates[order_id].wait(READY_TIMEOUT)
            with medusa.lock:
                if action == "status" and medusa.failing_writes.get(order_id, 0) > 0:
                    medusa.failing_writes[order_id] -= 1
                    self._send(503, {"message": "database unavailable"})
                    return
                medusa.calls.append((order_id, action))
                order = medusa.orders[order_id]
                if action == "view":
                    answer = medusa.view(order)
                elif action == "cancel":
                    answer = medusa.cancel(order)
                else:
                    answer = medusa.write_status(order, body)
                self._send(200, answer)

    return Handler


@pytest.fixture
def medusa() -> Iterator[FakeMedusa]:
    fake = FakeMedusa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


# --- real processes --------------------------------------------------------------------------------------


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


@dataclass
class Engine:
    grpc_address: str
    http_url: str | None  # the local engine's inspection view; None for a real Zeebe (ZEEBE_ADDRESS)
    # Camunda's REST API (the worker's start check): the local engine serves it on its HTTP port.
    api_url: str | None = None

    @property
    def camunda_api_url(self) -> str:
        url = self.api_url or self.http_url
        assert url is not None, "a real Zeebe needs CAMUNDA_API_URL"
        return url

    def deploy_model(self) -> None:
        """The deployment's model step (workers only check that it ran)."""
        deploy_models(local_deploy_settings(self.grpc_address, self.camunda_api_url))

    def instances(self, order_id: str) -> list[dict[str, Any]]:
        assert self.http_url is not None, "a real Zeebe has no inspection view"
        response = httpx.get(
            f"{self.http_url}/process-instances",
            params={"bpmn_process_id": "order-fulfillment", "correlation_key": order_id},
        )
        response.raise_for_status()
        return list(response.json()["items"])

    def instance(self, key: int | str) -> dict[str, Any]:
        assert self.http_url is not None, "a real Zeebe has no inspection view"
        response = httpx.get(f"{self.http_url}/process-instances/{key}")
        response.raise_for_status()
        return dict(response.json())

    def wait_until_ended(self, order_id: str, timeout: float = FLOW_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            instances = self.instances(order_id)
            if instances and instances[0]["state"] != "ACTIVE":
                return self.instance(instances[0]["key"])
            time.sleep(0.1)
        raise AssertionError(f"instance for {order_id} did not end: {self.instances(order_id)}")


def start_engine(
    log: Path, port: int = 0, http_port: int = 0, data_dir: Path | None = None
) -> tuple[LocalEngine, Engine]:
    launched = LocalEngine.start(port=port, http_port=http_port, data_dir=data_dir, log_path=log)
    running = Engine(launched.grpc_address, launched.http_url)
    running.deploy_model()
    return launched, running


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The local engine, or the real Zeebe that ZEEBE_ADDRESS points at (insecure gateway), with the model
    deployed by the deploy step."""
    address = os.environ.get("ZEEBE_ADDRESS")
    if address:
        api_url = os.environ.get("CAMUNDA_API_URL")
        if not api_url:
            pytest.skip("ZEEBE_ADDRESS without CAMUNDA_API_URL: the worker checks its model through the API")
        real = Engine(address, None, api_url)
        real.deploy_model()
        yield real
        return
    launched, running = start_engine(tmp_path_factory.mktemp("engine") / "engine.log")
    yield running
    launched.stop()


def wait_for_outcome(
    engine: Engine, medusa: FakeMedusa, order_id: str, timeout: float = FLOW_TIMEOUT
) -> dict[str, Any] | None:
    """Waits until the order's workflow status in Medusa is final, then returns its ended instance from the
    local engine's inspection view; None on a real Zeebe, whose gateway API has no instance query."""
    deadline = time.monotonic() + timeout
    while not (medusa.statuses(order_id) and WorkflowStatus(medusa.statuses(order_id)[-1]).terminal):
        assert time.monotonic() < deadline, (
            f"{order_id} never reached a final status: {medusa.statuses(order_id)}"
        )
        time.sleep(0.1)
    if engine.http_url is None:
        return None
    return engine.wait_until_ended(order_id, max(1.0, deadline - time.monotonic()))


@pytest.fixture
def status_function(medusa: FakeMedusa, tmp_path: Path) -> Iterator[str]:
    """functions/status_update served by the real functions-framework, writing into the Medusa stand-in."""
    settings = {
        "MEDUSA_BACKEND_URL": medusa.url,
        "MEDUSA_STATUS_SECRET": MEDUSA_STATUS_SECRET,
        "STATUS_UPDATE_SECRET": STATUS_SECRET,
        "MEDUSA_MAX_ATTEMPTS": "1",
    }
    with serve_function("status_update", settings, log_path=tmp_path / "status_update.log") as served:
        yield served.url


LogEntry = dict[str, Any]


@dataclass
class WorkerRun:
    process: subprocess.Popen[Any]
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
        return entries

    def wait_for_log(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = READY_TIMEOUT
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(entry) for entry in self.lines()):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"log line not seen; worker log:\n{self.log.read_text()[-3000:]}")

    def exit_code(self, timeout: float) -> int:
        return self.process.wait(timeout)


@pytest.fixture
def start_worker(
    engine: Engine, medusa: FakeMedusa, status_function: str, tmp_path: Path
) -> Iterator[Callable[..., WorkerRun]]:
    runs: list[WorkerRun] = []

    def start(**settings: str) -> WorkerRun:
        log = tmp_path / f"worker-{len(runs)}.log"
        env = {
            **os.environ,
            "ZEEBE_ADDRESS": engine.grpc_address,
            "CAMUNDA_API_URL": engine.camunda_api_url,
            "MEDUSA_BACKEND_URL": medusa.url,
            "MEDUSA_WORKER_SECRET": WORKER_SECRET,
            "MEDUSA_MAX_ATTEMPTS": "1",
            "STATUS_UPDATE_URL": status_function,
            "STATUS_UPDATE_SECRET": STATUS_SECRET,
            "WORKER_RETRY_BACKOFF_SECONDS": "0.2",
            "WORKER_POLL_TIMEOUT_SECONDS": "2",
            **settings,
        }
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "worker_job"],
                cwd=REPO,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        run = WorkerRun(process, log)
        runs.append(run)
        run.wait_for_log(lambda entry: entry.get("message") == "worker started")
        return run

    yield start
    for run in runs:
        stop_process(run.process)


@pytest.fixture
def publish(engine: Engine) -> Iterator[Callable[[str], str]]:
    """Starts an instance the way the order webhook does (message "order-placed", key = order id)."""
    bridge = EngineBridge.from_settings(EngineSettings(zeebe_address=engine.grpc_address))

    def publish_order(order_id: str) -> str:
        return bridge.publish_order_placed(order_id, {"order_id": order_id})

    yield publish_order
    bridge.close()


def visited(instance: dict[str, Any]) -> list[str]:
    return [entry["element_id"] for entry in instance["history"]]


# --- the flows -------------------------------------------------------------------------------------------


def test_happy_path_completes_in_four_medusa_calls_with_the_mail_in_the_last(
    medusa: FakeMedusa, engine: Engine, start_worker: Callable[..., WorkerRun], publish: Any
) -> None:
    medusa.add_order("order_happy1")
    worker = start_worker()

    assert publish("order_happy1") == "started"
    instance = wait_for_outcome(engine, medusa, "order_happy1")

    if instance is not None:
        assert instance["state"] == "COMPLETED", instance
        assert "OrderFulfilled" in visited(instance)
        assert not instance["incidents"]
        assert medusa.metadata("order_happy1")["workflow_instance"] == str(instance["key"])
    assert medusa.statuses("order_happy1") == FULFILLED
    # One view serves all three steps; the confirmation travels with the `completed` write.
    assert medusa.calls_for("order_happy1") == ["view", "status", "status", "status"]
    assert medusa.mails_for("order_happy1") == [("completed", {"template": "order-confirmation", "data": {}})]
    metadata = medusa.metadata("order_happy1")
    assert metadata["workflow_instance"].isdigit()
    assert metadata["workflow_step"] == "send-notification"
    assert metadata["gift_note"] == "kept"
    assert medusa.refused_secrets == []
    assert worker.process.poll() is None


def test_a_failed_payment_is_canceled_first_then_recorded_with_the_mail(
    medusa: FakeMedusa, engine: Engine, start_worker: Callable[..., WorkerRun], publish: Any
) -> None:
    medusa.add_order("order_unpaid1", payment_status="canceled", authorized_amount=0)
    start_worker()

    publish("order_unpaid1")
    instance = wait_for_outcome(engine, medusa, "order_unpaid1")

    if instance is not None:
        assert instance["state"] == "COMPLETED"
        assert {"PaymentNotAuthorized", "FailOrderPayment", "OrderFailedPayment"} <= set(visited(instance))
        assert "ReserveInventory" not in visited(instance)
    # The failure status is written only after Medusa canceled the order.
    # A failed check is read again after the settle interval before it is acted on (worker_job/confirm.py).
    assert medusa.calls_for("order_unpaid1") == ["view", "view", "cancel", "status"]
    assert medusa.statuses("order_unpaid1") == ["payment_failed"]
    message = medusa.metadata("order_unpaid1")["workflow_message"]
    assert "payment status is 'canceled'" in message
    assert "canceled in Medusa" in message
    assert medusa.cancellations == ["order_unpaid1"]
    [(status, mail)] = medusa.mails_for("order_unpaid1")
    assert status == "payment_failed"
    assert mail["template"] == "order-canceled-payment"
    assert set(mail["data"]) == {"reason"}


def test_a_cancel_medusa_refuses_is_cancel_refused_at_once_without_a_mail(
    medusa: FakeMedusa, engine: Engine, start_worker: Callable[..., WorkerRun], publish: Any
) -> None:
    medusa.add_order("order_shipped1", payment_status="canceled", authorized_amount=0)
    medusa.uncancelable["order_shipped1"] = "All fulfillments must be canceled before canceling an order"
    worker = start_worker()

    publish("order_shipped1")
    instance = wait_for_outcome(engine, medusa, "order_shipped1")

    if instance is not None:
        assert instance["state"] == "COMPLETED"
        assert not instance["incidents"]
    assert medusa.statuses("order_shipped1") == ["cancel_refused"]
    assert "All fulfillments must be canceled" in medusa.metadata("order_shipped1")["workflow_message"]
    assert medusa.calls_for("order_shipped1") == ["view", "view", "cancel", "status"], (
        "asked once, never retried"
    )
    assert medusa.mails_for("order_shipped1") == []
    assert not [e for e in worker.lines() if e.get("event") == "job_failed"]


def test_partial_authorization_is_not_enough(
    medusa: FakeMedusa, engine: Engine, start_worker: Callable[..., WorkerRun], publish: Any
) -> None:
    medusa.add_order("order_partial1", authorized_amount=20.0)
    start_worker()

    publish("order_partial1")
    wait_for_outcome(engine, medusa, "order_partial1")

    assert medusa.statuses("order_partial1") == ["payment_failed"]
    assert "only 20.0 of 30.0 EUR" in medusa.metadata("order_partial1")["workflow_message"]


def test_missing_reservation_ends_out_of_stock_held_for_staff(
    medusa: FakeMedusa, engine: Engine, start_worker: Callable[..., WorkerRun], publish: Any
) -> None:
    medusa.add_order("order_nostock1", reserved_quantity=1)
    start_worker()

    publish("order_nostock1")
    instance = wait_for_outcome(engine, medusa, "order_nostock1")

    if instance is not None:
        assert {"StockMissing", "HoldOrderStock", "OrderHeld"} <= set(visited(instance))
    assert medusa.statuses("order_nostock1") == ["payment_verified", "out_of_stock"]
    assert (
        "Mug (inventory item iitem_mug): 1 of 2 reserved"
        in medusa.metadata("order_nostock1")["workflow_message"]
    )
    assert medusa.mails_for("order_nostock1") == [], "the default stock policy (hold) mails nobody"
    assert medusa.cancellations == []
    # The stock check reuses the payment check's view; the missing stock is read again once before it
    # is acted on (worker_job/confirm.py).
    assert medusa.calls_for("order_nostock1") == ["view", "status", "view", "status"]


def test_a_plugin_refusing_the_worker_secret_is_an_outage_then_the_order_completes(
    medusa: FakeMedusa, engine: Engine, start_worker: Callable[..., WorkerRun], publish: Any
) -> None:
    medusa.add_order("order_badkey1")
    # The worker signs with the status function's secret: the plugin's view route answers 401.
    wrong = start_worker(MEDUSA_WORKER_SECRET=MEDUSA_STATUS_SECRET)

    publish("order_badkey1")
    wrong.wait_for_log(lambda e: e.get("event") == "job_failed" and e.get("error_type") == "MedusaAuthError")
    faults = [e for e in wrong.lines() if e.get("event") == "job_failed"]
    assert {e["job_type"] for e in faults} == {"verify-payment"}
    assert all(e["retries_left"] > 0 for e in faults), "retried like any outage, no incident yet"
    assert medusa.statuses("order_badkey1") == [], "no outcome: nothing recorded, nobody mailed"
    assert medusa.calls_for("order_badkey1") == []
    assert "view" in medusa.refused_secrets
    stop_process(wrong.process)

    # The secret is fixed: the same job, retried, carries the order to the end.
    start_worker()
    instance = wait_for_outcome(engine, medusa, "order_badkey1")
    if instance is not None:
        assert instance["state"] == "COMPLETED"
        assert not instance["incidents"]
    assert medusa.statuses("order_badkey1") == FULFILLED


def test_a_failed_status_report_fails_the_job_and_the_retry_completes_it(
    medusa: FakeMedusa, engine: Engine, start_worker: Callable[..., WorkerRun], publish: Any
) -> None:
    medusa.add_order("order_flaky1")
    # The first two metadata writes fail: the status function answers 503, the worker fails the job.
    medusa.failing_writes["order_flaky1"] = 2
    worker = start_worker()

    publish("order_flaky1")
    instance = wait_for_outcome(engine, medusa, "order_flaky1")

    if instance is not None:
        assert instance["state"] == "COMPLETED"
        assert not instance["incidents"]
    assert medusa.statuses("order_flaky1") == FULFILLED
    failures = [e for e in worker.lines() if "failed (" in e.get("message", "")]
    assert len(failures) == 2, failures
    assert all(e["order_id"] == "order_flaky1" and e["process_instance_key"] for e in failures)


# --- lifecycle -------------------------------------------------------------------------------------------


def job_runs(worker: WorkerRun) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(order id, job type) of every job the worker started, and of every job it finished."""
    started: list[tuple[str, str]] = []
    finished: list[tuple[str, str]] = []
    for entry in worker.lines():
        match = re.fullmatch(r"job (\S+) (started|done).*", entry.get("message", ""))
        if match:
            (started if match.group(2) == "started" else finished).append((entry["order_id"], match.group(1)))
    return started, finished


def test_sigterm_lets_jobs_in_flight_finish_and_exits_zero(
    medusa: FakeMedusa, engine: Engine, start_worker: Callable[..., WorkerRun], publish: Any
) -> None:
    orders = [f"order_term{n}" for n in range(4)]
    for order_id in orders:
        medusa.add_order(order_id)
        medusa.view_delay_seconds[order_id] = 1.5
    worker = start_worker()
    for order_id in orders:
        publish(order_id)
    # Every verify-payment job is running: each has asked for its order and waits 1.5 s for the answer.
    deadline = time.monotonic() + READY_TIMEOUT
    while set(medusa.view_requests) != set(orders) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set(medusa.view_requests) == set(orders)

    worker.process.send_signal(signal.SIGTERM)
    started = time.monotonic()

    assert worker.exit_code(timeout=30) == 0
    assert time.monotonic() - started < 15
    messages = [entry["message"] for entry in worker.lines()]
    assert any(m.startswith("stopping (SIGTERM)") for m in messages)
    assert any(m.startswith("stopped cleanly") for m in messages)
    # Every job the worker took finished (and reported) before the process ended; the four it was
    # running when the signal came are among them.
    jobs_started, jobs_finished = job_runs(worker)
    assert sorted(jobs_started) == sorted(jobs_finished)
    assert {(order_id, "verify-payment") for order_id in orders} <= set(jobs_finished)
    for order_id in orders:
        assert medusa.statuses(order_id)[:1] == ["payment_verified"], order_id

    # Nothing was lost: a new worker carries every order to the end, and no step ran twice.
    medusa.view_delay_seconds.clear()
    second = start_worker()
    for order_id in orders:
        instance = wait_for_outcome(engine, medusa, order_id)
        if instance is not None:
            assert instance["state"] == "COMPLETED"
            assert not instance["incidents"]
        assert medusa.statuses(order_id) == FULFILLED
    assert not set(job_runs(worker)[0]) & set(job_runs(second)[0])


def test_a_missing_setting_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDUSA_", "STATUS_", "ZEEBE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "worker_job"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert "MEDUSA_BACKEND_URL" in result.stderr
