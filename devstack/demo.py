"""The demo: place three orders through the Store API and watch the workflow carry each one to its end."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.pretty import Pretty
from rich.table import Table

from devstack.admin import AdminApi
from devstack.engine_view import EngineView
from devstack.shop import PlacedOrder, Shop
from devstack.stack import Stack
from fulfillment.workflow import WorkflowStatus

ORDER_COUNT = 3
WATCH_TIMEOUT_SECONDS = 180
POLL_SECONDS = 0.5


@dataclass
class WatchedOrder:
    order: PlacedOrder
    placed_at: float
    metadata: dict[str, Any] = field(default_factory=dict)
    finished_at: float | None = None

    @property
    def status(self) -> str:
        return str(self.metadata.get("workflow_status") or "waiting for the webhook")

    @property
    def terminal(self) -> bool:
        try:
            return WorkflowStatus(self.status).terminal
        except ValueError:
            return False

    def elapsed(self) -> float:
        return (self.finished_at or time.monotonic()) - self.placed_at


def place_orders(stack: Stack, console: Console, count: int = ORDER_COUNT) -> list[WatchedOrder]:
    """Places the orders side by side, as separate shoppers would."""
    seed = stack.seed
    assert seed is not None

    def place(number: int) -> WatchedOrder:
        with Shop(stack.medusa_url, seed.publishable_key, seed.region_id) as shop:
            order = shop.place_order(seed.variant_id, quantity=number, email=f"customer{number}@example.com")
        console.print(f"placed order #{order.display_id} {order.id} ({order.total:.2f} EUR)")
        return WatchedOrder(order, time.monotonic())

    console.print(f"placing {count} orders through the Store API...")
    with ThreadPoolExecutor(count) as pool:
        placed = list(pool.map(place, range(1, count + 1)))
    return sorted(placed, key=lambda watched: watched.order.display_id)


def _table(orders: list[WatchedOrder]) -> Table:
    table = Table(title="Order fulfillment (metadata read from Medusa's Admin API)")
    for column in ("order", "display id", "workflow_status", "step", "elapsed"):
        table.add_column(column, no_wrap=True)
    for watched in orders:
        style = "green" if watched.status == WorkflowStatus.COMPLETED else ("red" if watched.terminal else "")
        table.add_row(
            watched.order.id,
            str(watched.order.display_id),
            f"[{style}]{watched.status}[/]" if style else watched.status,
            str(watched.metadata.get("workflow_step") or "-"),
            f"{watched.elapsed():.1f} s",
        )
    return table


def watch(admin: AdminApi, orders: list[WatchedOrder], console: Console) -> None:
    deadline = time.monotonic() + WATCH_TIMEOUT_SECONDS
    with Live(_table(orders), console=console, refresh_per_second=4) as live:
        while time.monotonic() < deadline and not all(o.terminal for o in orders):
            for watched in orders:
                if not watched.terminal:
                    watched.metadata = admin.order_metadata(watched.order.id)
                    if watched.terminal:
                        watched.finished_at = time.monotonic()
            live.update(_table(orders))
            time.sleep(POLL_SECONDS)
        live.update(_table(orders))
    console.print()


def report(orders: list[WatchedOrder], engine: EngineView, console: Console) -> None:
    for watched in orders:
        instances = engine.instances_for(watched.order.id)
        engine_view: Any = [
            _summary(engine.instance(item["key"])) for item in instances
        ] or "no process instance"
        console.print(
            Panel(
                Group(
                    "[bold]order metadata[/]",
                    Pretty(watched.metadata),
                    "[bold]engine[/]",
                    Pretty(engine_view),
                ),
                title=f"order #{watched.order.display_id} {watched.order.id}: {watched.status}",
            )
        )


def _summary(instance: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": instance.get("key"),
        "state": instance.get("state"),
        "correlation_key": instance.get("correlation_key"),
        "incidents": instance.get("incidents"),
        "completed elements": " -> ".join(
            step["element_id"]
            for step in instance.get("history", [])
            if step["intent"] == "ELEMENT_COMPLETED"
        ),
    }


def run_demo(stack: Stack, console: Console) -> bool:
    """Places the orders and watches them; True when every order completed."""
    assert stack.seed is not None
    orders = place_orders(stack, console)
    with AdminApi(stack.medusa_url, token=stack.admin_token) as admin:
        watch(admin, orders, console)
    engine = EngineView(stack.engine_http_url)
    try:
        report(orders, engine, console)
    finally:
        engine.close()
    completed = [o for o in orders if o.status == WorkflowStatus.COMPLETED]
    console.print(
        json.dumps({"orders": len(orders), "completed": len(completed)}),
        style="bold green" if len(completed) == len(orders) else "bold red",
    )
    return len(completed) == len(orders)
