"""What the end-to-end tests do again and again: place orders, sign webhooks, wait for statuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from devstack.admin import AdminApi
from devstack.engine_view import EngineView
from devstack.postgres import find_bin_dir
from devstack.shop import PlacedOrder, Shop
from devstack.stack import Ports, Stack, WebhookRetry, new_webhook_secret
from fulfillment.signatures import sign_headers
from fulfillment.workflow import WorkflowStatus

WORKFLOW_KEYS = ("workflow_instance", "workflow_status", "workflow_message", "last_updated")
TERMINAL = frozenset(status.value for status in WorkflowStatus if status.terminal)


class Driver:
    """Talks to a running stack the way a shop, an operator and a forger would."""

    def __init__(self, stack: Stack) -> None:
        assert stack.seed is not None
        self.stack = stack
        self.seed = stack.seed
        self.admin = AdminApi(stack.medusa_url, token=stack.admin_token)
        self.engine = EngineView(stack.engine_http_url)
        self.http = httpx.Client(timeout=30)

    def close(self) -> None:
        self.admin.close()
        self.engine.close()
        self.http.close()

    # Orders ----------------------------------------------------------------------------------
    def place_order(self, quantity: int = 1) -> PlacedOrder:
        with Shop(self.stack.medusa_url, self.seed.publishable_key, self.seed.region_id) as shop:
            return shop.place_order(self.seed.variant_id, quantity=quantity)

    def convert_draft_order(self) -> str:
        """A phone or B2B sale: a draft order converted to an order; Medusa marks it `not_paid`."""
        address = {
            "first_name": "Grace",
            "last_name": "Hopper",
            "address_1": "Unter den Linden 1",
            "city": "Berlin",
            "postal_code": "10117",
            "country_code": "de",
        }
        draft = self.admin.post(
            "/admin/draft-orders",
            {
                "email": "grace@example.com",
                "region_id": self.seed.region_id,
                "sales_channel_id": self.seed.sales_channel_id,
                "items": [{"variant_id": self.seed.variant_id, "quantity": 1}],
                "shipping_address": address,
                "billing_address": address,
            },
        )["draft_order"]
        order: dict[str, Any] = self.admin.post(f"/admin/draft-orders/{draft['id']}/convert-to-order")[
            "order"
        ]
        return str(order["id"])

    def mark_as_paid(self, order_id: str) -> None:
        """What staff do in the admin when the customer paid by bank transfer: a payment collection for
        the outstanding amount, marked as paid."""
        outstanding = self.admin.order(order_id, fields="id,summary")["summary"]["pending_difference"]
        body = {"order_id": order_id, "amount": outstanding}
        collection = self.admin.post("/admin/payment-collections", body)["payment_collection"]
        self.admin.post(f"/admin/payment-collections/{collection['id']}/mark-as-paid", {"order_id": order_id})

    def reservations(self, order_id: str) -> list[dict[str, Any]]:
        order = self.admin.order(order_id, fields="id,*items")
        line_item_ids = [item["id"] for item in order["items"]]
        found: list[dict[str, Any]] = self.admin.get("/admin/reservations", line_item_id=line_item_ids)[
            "reservations"
        ]
        return found

    def mails(self, order_id: str) -> list[str]:
        """The notifications sent for the order, by template."""
        return sorted(
            path.name.split(".", 1)[1].removesuffix(".json")
            for path in self.stack.outbox_dir.glob(f"{order_id}.*.json")
        )

    def delete_reservations(self, order_id: str) -> int:
        """Deletes the stock reservations Medusa made for the order at checkout; returns how many."""
        reservations = self.reservations(order_id)
        for reservation in reservations:
            self.admin.delete(f"/admin/reservations/{reservation['id']}")
        return len(reservations)

    def backdate_order(self, order_id: str, hours: int) -> None:
        """Moves the order's creation time back, in Medusa's database (no API changes it): an order placed
        that long ago, e.g. one whose event was lost and that reconciliation no longer looks at."""
        sql = """UPDATE "order" SET created_at = now() - (:'hours' || ' hours')::interval WHERE id = :'id'"""
        self.run_sql(sql, id=order_id, hours=str(hours))

    def reset_workflow_status(self, order_id: str, status: str) -> None:
        """Puts the order's workflow row back to `status`, in the plugin's table: no route moves a status
        back, and a metadata edit no longer changes what the plugin believes."""
        sql = """INSERT INTO "order_workflow" (order_id, status) VALUES (:'id', :'status')
                 ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status"""
        self.run_sql(sql, id=order_id, status=status)

    def run_sql(self, sql: str, **variables: str) -> None:
        """One statement on Medusa's database that must change exactly one row."""
        # psql variables, so the values never become SQL text.
        arguments = [arg for name, value in variables.items() for arg in ("-v", f"{name}={value}")]
        result = subprocess.run(
            [str(find_bin_dir() / "psql"), self.stack.postgres_url, "-v", "ON_ERROR_STOP=1", *arguments],
            input=sql,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() in ("UPDATE 1", "INSERT 0 1"), result.stdout

    def metadata(self, order_id: str) -> dict[str, Any]:
        return self.admin.order_metadata(order_id)

    def wait_for_status(
        self, order_id: str, statuses: Collection[str] = TERMINAL, timeout: float = 60
    ) -> dict[str, Any]:
        """Polls the order's metadata until workflow_status is one of `statuses`; returns the metadata."""
        metadata: dict[str, Any] = {}

        def reached() -> bool:
            nonlocal metadata
            metadata = self.metadata(order_id)
            return metadata.get("workflow_status") in statuses

        poll(reached, timeout, lambda: f"order {order_id} to reach {sorted(statuses)}; metadata {metadata}")
        return metadata

    def instances(self, order_id: str) -> list[dict[str, Any]]:
        return self.engine.instances_for(order_id)

    # Webhooks --------------------------------------------------------------------------------
    def signed_webhook(
        self, body: bytes, secret: str | None = None, msg_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        headers = sign_headers(secret or self._webhook_secret(), body, msg_id)
        return body, {**headers, "content-type": "application/json"}

    def _webhook_secret(self) -> str:
        assert self.stack.secrets is not None
        return self.stack.secrets.order_webhook

    def post_webhook(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.http.post(self.stack.order_webhook_url, content=body, headers=headers)

    def apply_status(self, update: dict[str, Any]) -> dict[str, Any]:
        """Posts a signed status update that must be answered 200; returns the answer."""
        response = self.post_status(update)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        # The plugin's status answer, passed on as it is (docs/contracts.md).
        assert {"applied", "reason", "metadata"} <= set(answer), answer
        return answer

    def post_status(self, payload: dict[str, Any]) -> httpx.Response:
        assert self.stack.secrets is not None
        body = json.dumps(payload).encode()
        headers = {**sign_headers(self.stack.secrets.status_update, body), "content-type": "application/json"}
        return self.http.post(self.stack.status_update_url, content=body, headers=headers)


class GuardedWebhook:
    """The webhook function while it trusts only `secret` (see the `guarded_webhook` fixture)."""

    def __init__(self, stack: Stack, secret: str) -> None:
        self.stack = stack
        self.secret = secret

    def place_order(self, driver: Driver) -> PlacedOrder:
        """A real order whose subscriber delivery has been refused: nothing has started for it."""
        order = driver.place_order()
        # The process that runs subscribers: the one Medusa, or the worker-mode one in production's shape.
        medusa_log = self.stack.subscriber_log
        poll(
            lambda: bool(log_lines(medusa_log, f"{order.id}: permanently rejected with HTTP 401")),
            30,
            lambda: f"the subscriber's delivery for {order.id} to be refused",
        )
        return order

    def lift(self) -> None:
        """Trusts the subscriber's secret again (the fixture does it too, at the end of the module)."""
        self.stack.stop_part("order_webhook")
        self.stack.start_order_webhook()

    def headers(
        self, body: bytes, msg_id: str | None = None, timestamp: datetime | None = None
    ) -> dict[str, str]:
        signed = sign_headers(self.secret, body, msg_id, timestamp=timestamp)
        return {**signed, "content-type": "application/json"}


@contextmanager
def worker_with(stack: Stack, settings: Mapping[str, str]) -> Iterator[None]:
    """The stack's worker restarted with these settings, and back to its defaults afterwards."""
    stack.stop_part("worker")
    try:
        stack.start_worker(settings)
        yield
    finally:
        stack.stop_part("worker")
        stack.start_worker()


def status_update(
    order_id: str, status: str, occurred_at: datetime, instance: str = "2251799813699999"
) -> dict[str, Any]:
    """A status function request body as the worker sends it."""
    return {
        "order_id": order_id,
        "process_instance_key": instance,
        "status": status,
        "message": f"test update {status}",
        "step": "test",
        "occurred_at": occurred_at.isoformat(),
    }


def order_placed_body(
    order_id: str, event_type: str = "order.placed", *, workflow_status: str | None = None
) -> bytes:
    """An `order.placed` event as the plugin signs it after reading the order (docs/contracts.md); the
    amounts are only what the process starts with, the worker reads the order itself."""
    data = {
        "id": order_id,
        "display_id": 1,
        "currency_code": "eur",
        "total": 10.0,
        "created_at": "2026-01-01T00:00:00Z",
        "workflow_status": workflow_status,
    }
    payload = {"type": event_type, "occurred_at": "2026-01-01T00:00:00Z", "data": data}
    return json.dumps(payload).encode()


def poll(check: Callable[[], bool], timeout: float, what: Callable[[], str], interval: float = 0.3) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what()}")


def log_lines(path: Path, needle: str) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if needle in line]


def running_stack(
    what: str, retry: WebhookRetry, failed: Callable[[], bool], *, production: bool = False
) -> Iterator[Stack]:
    """A whole stack on free ports in a temporary run directory, for a fixture to yield; the directory is
    kept for its logs when a test failed (`failed()` is asked after the tests ran)."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{what}-stack-"))
    # PostgreSQL runs as its own system user when we are root: it must be able to enter the run dir.
    run_dir.chmod(0o755)
    with Stack(run_dir / "run", Ports.free(), webhook_retry=retry, production=production) as stack:
        yield stack
    if failed():
        print(f"\n{what} run directory kept for its logs: {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)


def guarding_webhook(stack: Stack) -> Iterator[GuardedWebhook]:
    """The webhook function trusting only a secret the subscriber does not have, for a fixture to yield.

    Orders placed meanwhile are real but start nothing on their own (the subscriber's delivery is refused
    with 401, which it does not retry), so a test decides exactly which deliveries arrive.
    """
    guarded = GuardedWebhook(stack, new_webhook_secret())
    stack.stop_part("order_webhook")
    try:
        stack.start_order_webhook({"ORDER_WEBHOOK_SECRET": guarded.secret})
        yield guarded
    finally:
        stack.stop_part("order_webhook")
        stack.start_order_webhook()
