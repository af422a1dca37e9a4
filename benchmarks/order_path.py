"""One order at a time: the Medusa calls each path makes, and how long an order alone takes.

    .venv/bin/python -m benchmarks.order_path [--alone 10] [--failures 2]

On the stack of `benchmarks.stack` (every call to Medusa counted by the plugin route it reaches), in one
run:

1. orders alone, one after another: the webhook's acknowledgement and the time from the webhook to the
   terminal status write, each right after one publish to the engine (what an acknowledgement cannot go
   below: the webhook makes no call to Medusa);
2. the failure paths: orders whose stock reservation was deleted end `out_of_stock`, orders whose payment
   was captured and refunded end `payment_failed` (their calls include the plugin's cancel route).

An order has ended when the proxy sees its terminal status write come back (watching adds no load to
Medusa); its calls are counted once the engine reports the instance completed.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import httpx
from pyzeebe import ZeebeClient
from rich.table import Table

from benchmarks.figures import ms, percentile
from benchmarks.stack import FLOW_TIMEOUT_SECONDS, BenchStack, calls_table, console
from benchmarks.throughput import CALLS_PER_ORDER_TARGET, CallsPerOrder
from devstack.admin import AdminApi
from fulfillment.engine import EngineBridge
from fulfillment.settings import EngineSettings

FAILURE_OUTCOMES: Final = ("out_of_stock", "payment_failed")
ALONE_FLOW_TARGET_S: Final = 0.8


@dataclass(frozen=True)
class Alone:
    """Orders one after another."""

    calls: CallsPerOrder
    acks: list[float]
    flows: list[float]
    publishes: list[float]
    statuses: list[str]


@dataclass(frozen=True)
class FailurePath:
    outcome: str
    calls: CallsPerOrder
    statuses: list[str]


@dataclass(frozen=True)
class OrderPathResult:
    alone: Alone
    failures: list[FailurePath]


@dataclass
class OrderPath:
    bench: BenchStack

    def run(self, alone: int, failures: int) -> OrderPathResult:
        return OrderPathResult(
            self.alone(alone), [self.failure_path(outcome, failures) for outcome in FAILURE_OUTCOMES]
        )

    def alone(self, count: int) -> Alone:
        """Orders one after another. Right before each webhook, one publish to the engine: the floor of an
        acknowledgement, measured in the same moments, since other work on the machine changes the pace."""
        bench = self.bench
        orders = bench.place_orders(count + 1, "alone")
        bridge = EngineBridge.from_settings(EngineSettings(zeebe_address=bench.stack.engine_address))
        acks, flows, statuses, publishes = [], [], [], []
        try:
            with httpx.Client(timeout=30) as http:
                bench.proxy.phase("alone-warm-up")  # the function opens its engine connection now
                _publish(bridge, orders[0].id)
                bench.send_webhook(http, orders[0])
                bench.wait_completed([orders[0].id])
                bench.proxy.phase("alone")
                for order in orders[1:]:
                    publishes.append(_publish(bridge, order.id))
                    sent, acked = bench.send_webhook(http, order)
                    status, done = bench.proxy.terminal_at([order.id], FLOW_TIMEOUT_SECONDS)[order.id]
                    bench.wait_completed([order.id])
                    acks.append(acked)
                    flows.append(done - sent)
                    statuses.append(status)
        finally:
            bridge.close()
        return Alone(self._calls("alone", count), acks, flows, publishes, statuses)

    def failure_path(self, outcome: str, count: int) -> FailurePath:
        """Orders made to fail before their webhook: `out_of_stock` (reservations deleted) or
        `payment_failed` (payment captured and refunded in full, so no money is held any more)."""
        bench = self.bench
        orders = bench.place_orders(count, outcome)
        spoil: Callable[[AdminApi, str], None] = (
            _delete_reservations if outcome == "out_of_stock" else _refund_payment
        )
        with bench.admin() as admin:
            for order in orders:
                spoil(admin, order.id)
        bench.proxy.phase(outcome)
        with httpx.Client(timeout=30) as http:
            for order in orders:
                bench.send_webhook(http, order)
                bench.proxy.terminal_at([order.id], FLOW_TIMEOUT_SECONDS)
                bench.wait_completed([order.id])
        ended = bench.proxy.terminal_at([o.id for o in orders], 1)
        return FailurePath(outcome, self._calls(outcome, count), [status for status, _ in ended.values()])

    def _calls(self, phase: str, orders: int) -> CallsPerOrder:
        return CallsPerOrder.counted(self.bench.proxy.stats()["calls"].get(phase, {}), orders)


def _publish(bridge: EngineBridge, order_id: str) -> float:
    """Seconds for one publish (a message no process waits for)."""
    started = time.monotonic()
    bridge.run(functools.partial(_publish_probe, order_id=order_id))
    return time.monotonic() - started


async def _publish_probe(client: ZeebeClient, order_id: str) -> None:
    # A message no process waits for: the same gateway round trip as the webhook's publish.
    await client.publish_message(
        name="benchmark-probe", correlation_key=order_id, time_to_live_in_milliseconds=0
    )


def _delete_reservations(admin: AdminApi, order_id: str) -> None:
    order = admin.order(order_id, fields="id,*items")
    line_item_ids = [item["id"] for item in order["items"]]
    for reservation in admin.get("/admin/reservations", line_item_id=line_item_ids)["reservations"]:
        admin.delete(f"/admin/reservations/{reservation['id']}")


def _refund_payment(admin: AdminApi, order_id: str) -> None:
    order = admin.order(order_id, fields="id,*payment_collections,*payment_collections.payments")
    for collection in order["payment_collections"]:
        for payment in collection.get("payments") or []:
            admin.post(f"/admin/payments/{payment['id']}/capture")
            admin.post(f"/admin/payments/{payment['id']}/refund", {"amount": payment["amount"]})


def _verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]missed[/]"


def report(result: OrderPathResult) -> Table:
    table = Table(title="One order at a time: Medusa calls per path, latency alone (one run)")
    for column in ("Figure", "Measured", "Target", ""):
        table.add_column(column)
    alone = result.alone
    target = CALLS_PER_ORDER_TARGET
    table.add_row(
        "Medusa calls per order, happy path",
        alone.calls.describe(),
        f"<= {target}",
        _verdict(alone.calls.total <= target),
    )
    for path in result.failures:
        ended = f"; {path.statuses.count(path.outcome)} of {len(path.statuses)} ended {path.outcome}"
        table.add_row(
            f"Medusa calls per order, {path.outcome} path", path.calls.describe() + ended, "counted"
        )
    flow_p50 = statistics.median(alone.flows)
    table.add_row(
        f"One order alone: webhook to end, p50 (n={len(alone.flows)})",
        ms(flow_p50),
        f"<= {ms(ALONE_FLOW_TARGET_S)}",
        _verdict(flow_p50 <= ALONE_FLOW_TARGET_S),
    )
    table.add_row(
        "Webhook ack alone, p50 / p99; one publish right before, p50 / p99",
        f"{ms(statistics.median(alone.acks))} / {ms(percentile(alone.acks, 0.99))}; "
        f"{ms(statistics.median(alone.publishes))} / {ms(percentile(alone.publishes, 0.99))}",
    )
    table.add_row(
        "Orders alone ending completed", f"{alone.statuses.count('completed')} of {len(alone.statuses)}"
    )
    return table


def phase_sizes(alone: int, failures: int) -> dict[str, int]:
    return {"alone": alone, **dict.fromkeys(FAILURE_OUTCOMES, failures)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alone", type=int, default=10, help="orders sent one after another (default 10)")
    parser.add_argument("--failures", type=int, default=2, help="orders per failure path (default 2)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--keep", action="store_true", help="keep the run directory and its logs")
    args = parser.parse_args(argv)
    with BenchStack.running(args.keep) as bench:
        result = OrderPath(bench).run(args.alone, args.failures)
        calls = calls_table(bench, phase_sizes(args.alone, args.failures))
    console.print(calls)
    console.print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
