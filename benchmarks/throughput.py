"""How many orders a second the pipeline carries against Medusa's own ceiling, and what one order costs
each part (the figures docs/capacity.md uses).

    .venv/bin/python -m benchmarks.throughput [--burst 100] [--ceiling 60] [--concurrency 8]

On the stack of `benchmarks.stack` (a counting proxy between Medusa and the cloud side), in one run:

1. a few warm-up orders through the whole pipeline, one after another, then Medusa warmed up on their calls:
   the replay of step 2 on as many fresh orders as a ceiling, not compared with anything. Node compiles a
   route's hot code only after many calls, so without it the first ceiling ran on colder code than the
   burst and the ceiling after it (3-7% fewer orders a second in four of six runs, benchmarks/README.md);
2. Medusa's ceiling before the burst: fresh orders, each given exactly the calls a warm-up order made (the
   worker's view, the status function's writes with the same bodies, the last one asking for the
   confirmation mail, so the mail really goes out), signed as their callers sign them, sent through the same
   proxy by `--concurrency` callers, each carrying one order's calls in sequence;
3. the burst: N orders placed first, then all their webhooks sent;
4. Medusa's ceiling after the burst, replaying the burst orders' own calls on fresh orders.

Both the burst and the ceiling are measured the same way, over their steady part: the Medusa calls
answered between the first and the last tenth of the phase's calls, per second, divided by the calls an
order makes (benchmarks/figures.py). The burst is compared with the higher of the two ceilings, since other
work on the machine changes Medusa's pace from minute to minute.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

import httpx
from rich.table import Table

from benchmarks.counting_proxy import CALLER, CANCEL, OTHER, STATUS_WRITE, VIEW
from benchmarks.cpu_sets import SHOP_PARTS, CpuSets, cores_busy
from benchmarks.figures import SteadyRate, floored_percent, ms, percentile
from benchmarks.stack import (
    FLOW_TIMEOUT_SECONDS,
    BenchStack,
    CpuReading,
    CpuWindow,
    Exchange,
    calls_table,
    console,
)
from devstack.shop import PlacedOrder
from fulfillment.signatures import sign_headers

KINDS: Final = (VIEW, CANCEL, STATUS_WRITE, OTHER)
CALLS_PER_ORDER_TARGET: Final = 4
BURST_SHARE_TARGET: Final = 0.9
WARM_UP_ORDERS: Final = 3
# Senders of the burst's webhooks: more than the function's threads, so the function is never waiting.
WEBHOOK_SENDERS: Final = 32


@dataclass(frozen=True)
class CallsPerOrder:
    """Medusa calls per order, by kind of call (counting_proxy's kinds)."""

    by_kind: dict[str, float]

    @classmethod
    def counted(cls, counts: dict[str, int], orders: int) -> CallsPerOrder:
        return cls({kind: counts.get(kind, 0) / orders for kind in KINDS})

    @property
    def total(self) -> float:
        return sum(self.by_kind.values())

    def by_caller(self) -> dict[str, float]:
        callers = dict.fromkeys(("order_webhook", *dict.fromkeys(CALLER.values())), 0.0)
        for kind, count in self.by_kind.items():
            callers[CALLER[kind]] += count
        return callers

    def describe(self) -> str:
        callers = ", ".join(f"{part} {count:.1f}" for part, count in self.by_caller().items())
        kinds = ", ".join(f"{count:.1f} {kind.replace('_', ' ')}" for kind, count in self.by_kind.items())
        return f"{self.total:.1f}: {callers} ({kinds})"


@dataclass(frozen=True)
class PhaseRun:
    """One measured phase: its orders, Medusa calls, steady rate and the CPU each part used."""

    name: str
    orders: int
    calls: CallsPerOrder
    steady: SteadyRate
    cpu: CpuWindow

    def cpu_ms_per_order(self, *parts: str) -> float:
        return sum(self.cpu.by_part.get(part, 0.0) for part in parts) / self.orders * 1000

    @property
    def shop_cores_busy(self) -> float:
        """Medusa's and PostgreSQL's CPU seconds per second of the phase: how busy the shop kept."""
        return self._cores_busy(lambda part: part in SHOP_PARTS)

    @property
    def pipeline_cores_busy(self) -> float:
        """The same for the pipeline's parts and the counting proxy."""
        return self._cores_busy(lambda part: part not in SHOP_PARTS)

    def _cores_busy(self, chosen: Callable[[str], bool]) -> float:
        return sum(cpu for part, cpu in self.cpu.by_part.items() if chosen(part)) / self.cpu.seconds


@dataclass(frozen=True)
class Ceiling:
    when: str
    concurrency: int
    run: PhaseRun
    mails_sent: int


@dataclass(frozen=True)
class Burst:
    run: PhaseRun
    acks: list[float]
    statuses: list[str]
    engine_jobs_per_order: float
    requests_per_order: dict[str, float]


@dataclass
class ThroughputResult:
    burst: Burst
    ceilings: list[Ceiling] = field(default_factory=list)
    warm_up: Ceiling | None = None
    cpu_sets: CpuSets | None = None

    @property
    def best_ceiling(self) -> Ceiling:
        return max(self.ceilings, key=lambda ceiling: ceiling.run.steady.orders_per_s)

    @property
    def share(self) -> float:
        return self.burst.run.steady.orders_per_s / self.best_ceiling.run.steady.orders_per_s


@dataclass
class Throughput:
    bench: BenchStack
    concurrency: int

    def run(self, burst_size: int, ceiling_size: int) -> ThroughputResult:
        warm_up = self.bench.place_orders(WARM_UP_ORDERS, "warm-up")
        burst_orders = self.bench.place_orders(burst_size, "burst")
        fresh = self.bench.place_orders(3 * ceiling_size, "Medusa's ceiling (and its warm-up)")
        self.warm_up(warm_up)
        recorded = self.bench.proxy.exchanges("warm-up")
        console.log("[bold]Medusa warmed up on the warm-up orders' calls[/]")
        warmed = self.ceiling("warm-up", fresh[:ceiling_size], recorded)
        console.log("[bold]Medusa's ceiling, before the burst[/]")
        before = self.ceiling("before", fresh[ceiling_size : 2 * ceiling_size], recorded)
        console.log(f"[bold]burst of {burst_size}[/]")
        burst = self.burst(burst_orders)
        console.log("[bold]Medusa's ceiling, after the burst[/]")
        after = self.ceiling("after", fresh[2 * ceiling_size :], self.bench.proxy.exchanges("burst"))
        return ThroughputResult(burst, [before, after], warmed, self.bench.cpu_sets)

    def warm_up(self, orders: Sequence[PlacedOrder]) -> None:
        """Orders one after another: connections opened, code paths warm, calls recorded for the ceiling."""
        self.bench.proxy.phase("warm-up")
        with httpx.Client(timeout=30) as http:
            for order in orders:
                self.bench.send_webhook(http, order)
                self.bench.proxy.terminal_at([order.id], FLOW_TIMEOUT_SECONDS)
                self.bench.wait_completed([order.id])

    def burst(self, orders: Sequence[PlacedOrder]) -> Burst:
        ids = [order.id for order in orders]
        self.bench.proxy.phase("burst")
        cpu = CpuReading.now(self.bench)
        with (
            httpx.Client(timeout=60, limits=httpx.Limits(max_connections=WEBHOOK_SENDERS)) as http,
            ThreadPoolExecutor(WEBHOOK_SENDERS) as pool,
        ):
            sent = list(pool.map(lambda order: self.bench.send_webhook(http, order), orders))
        ended = self.bench.proxy.terminal_at(ids, FLOW_TIMEOUT_SECONDS)
        self.bench.wait_completed(ids)
        run = self._phase_run("burst", len(orders), cpu.until_now(self.bench))
        requests = {
            "order_webhook": self.bench.function_requests("order_webhook", "webhook_handled", ids),
            "status_update": self.bench.function_requests("status_update", "status_recorded", ids),
        }
        return Burst(
            run=run,
            acks=[acked for _, acked in sent],
            statuses=[status for status, _ in ended.values()],
            engine_jobs_per_order=self.bench.engine_jobs(ids) / len(ids),
            requests_per_order={name: count / len(ids) for name, count in requests.items()},
        )

    def ceiling(
        self, when: str, fresh: Sequence[PlacedOrder], recorded: dict[str, list[Exchange]]
    ) -> Ceiling:
        """Medusa's best on the pipeline's own calls: each fresh order gets one recorded order's calls, in
        their order, with the fresh order's id in place of the recorded one's."""
        templates = typical_orders(recorded)
        work = [(order.id, *templates[index % len(templates)]) for index, order in enumerate(fresh)]
        pending = iter(work)
        lock = threading.Lock()
        phase = f"ceiling-{when}"
        self.bench.proxy.phase(phase)
        cpu = CpuReading.now(self.bench)
        limits = httpx.Limits(max_connections=self.concurrency)
        with httpx.Client(base_url=self.bench.proxy.url, timeout=60, limits=limits) as http:

            def caller() -> int:
                sent = 0
                while True:
                    with lock:
                        item = next(pending, None)
                    if item is None:
                        return sent
                    sent += self._replay(http, *item)

            with ThreadPoolExecutor(self.concurrency) as pool:
                mails = sum(pool.map(lambda _: caller(), range(self.concurrency)))
        run = self._phase_run(phase, len(fresh), cpu.until_now(self.bench))
        return Ceiling(when, self.concurrency, run, mails)

    def _replay(self, http: httpx.Client, order_id: str, recorded_id: str, calls: list[Exchange]) -> int:
        """One order's calls; the number of mails they sent. Every call must do what it did for the
        recorded order (each write applied, each mail sent), or the ceiling would measure cheaper work."""
        secrets = self.bench.route_secrets
        mails = 0
        for call in calls:
            body = call.body.replace(recorded_id, order_id).encode()
            secret = secrets.medusa_status if call.kind == STATUS_WRITE else secrets.medusa_worker
            headers = {**sign_headers(secret, body), "content-type": "application/json"}
            response = http.post(call.path.replace(recorded_id, order_id), content=body, headers=headers)
            answer = response.json() if response.status_code == 200 else None
            if answer is None or (call.kind == STATUS_WRITE and not answer.get("applied")):
                raise RuntimeError(
                    f"replayed {call.kind} of {order_id}: {response.status_code} {response.text}"
                )
            if "notification" in json.loads(body):
                if not (answer.get("notification") or {}).get("sent"):
                    raise RuntimeError(f"replayed mail of {order_id} not sent: {response.text}")
                mails += 1
        return mails

    def _phase_run(self, phase: str, orders: int, cpu: CpuWindow) -> PhaseRun:
        stats = self.bench.proxy.stats()
        calls = CallsPerOrder.counted(stats["calls"].get(phase, {}), orders)
        moments = [(sent, done) for sent, done in stats["moments"][phase]]
        return PhaseRun(phase, orders, calls, SteadyRate.of(moments, calls.total), cpu)


def typical_orders(recorded: dict[str, list[Exchange]]) -> list[tuple[str, list[Exchange]]]:
    """The recorded orders whose calls are the most common sequence: an order whose job ran twice (a
    repeated write that Medusa answered as stale) would not replay as the same work."""
    sequences = Counter(tuple(call.kind for call in calls) for calls in recorded.values())
    typical, _ = sequences.most_common(1)[0]
    return [(order, calls) for order, calls in recorded.items() if tuple(c.kind for c in calls) == typical]


# --- the report ------------------------------------------------------------------------------------------
def _verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]missed[/]"


def _rate_text(run: PhaseRun) -> str:
    steady = run.steady
    return (
        f"{steady.orders_per_s:.2f} orders/s ({steady.calls_per_s:.1f} calls/s over {steady.seconds:.1f} s "
        f"of {steady.whole_seconds:.1f} s, {steady.in_flight:.1f} calls in flight); Medusa + PostgreSQL "
        f"{run.cpu_ms_per_order(*SHOP_PARTS):.0f} ms CPU/order, {run.shop_cores_busy:.2f} cores busy"
    )


def _cpu_sets_row(result: ThroughputResult) -> tuple[str, str]:
    """How busy each CPU set was in each phase: the shop's should have the same CPUs in every phase. What
    ran there besides our parts is other work on the machine (and, on the pipeline's, this process)."""
    sets = result.cpu_sets
    if sets is None:
        return "CPU sets", "none: one CPU, shared by the shop and the pipeline in every phase"
    shop, pipeline = (",".join(map(str, sorted(cpus))) for cpus in (sets.shop, sets.pipeline))
    runs = [result.ceilings[0].run, result.burst.run, *(c.run for c in result.ceilings[1:])]
    phases = "; ".join(
        f"{run.name}: CPU {shop} {_set_use(run, sets.shop, run.shop_cores_busy, 'Medusa + PostgreSQL')}, "
        f"CPU {pipeline} {_set_use(run, sets.pipeline, run.pipeline_cores_busy, 'pipeline', DRIVER_ETC)}"
        for run in runs
    )
    return (
        f"Cores busy per CPU set (shop on CPU {shop}; pipeline, proxy and load driver on CPU {pipeline})",
        phases,
    )


DRIVER_ETC: Final = "this driver and other"


def _set_use(run: PhaseRun, cpus: frozenset[int], ours: float, who: str, rest: str = "other") -> str:
    busy = cores_busy(run.cpu.by_cpu, cpus, run.cpu.seconds)
    return f"{busy:.2f} ({who} {ours:.2f}, {rest} {max(busy - ours, 0.0):.2f})"


def report(result: ThroughputResult) -> Table:
    table = Table(title="The burst against Medusa's ceiling, on the same calls (one run)")
    for column in ("Figure", "Measured", "Target", ""):
        table.add_column(column)
    burst = result.burst
    calls = burst.run.calls
    table.add_row(
        f"Medusa calls per order, burst of {burst.run.orders}",
        calls.describe(),
        f"<= {CALLS_PER_ORDER_TARGET}",
        _verdict(calls.total <= CALLS_PER_ORDER_TARGET),
    )
    if result.warm_up is not None:
        table.add_row(
            f"Medusa warming up on the same replay ({result.warm_up.run.orders} fresh orders; not compared)",
            _rate_text(result.warm_up.run),
        )
    for ceiling in result.ceilings:
        table.add_row(
            f"Medusa's ceiling {ceiling.when} the burst ({ceiling.run.orders} fresh orders, "
            f"{ceiling.concurrency} callers, {ceiling.mails_sent} mails sent)",
            f"{_rate_text(ceiling.run)}; {ceiling.run.calls.total:.1f} calls/order",
        )
    table.add_row(f"Burst of {burst.run.orders}", _rate_text(burst.run))
    table.add_row(*_cpu_sets_row(result))
    table.add_row(
        "Burst / Medusa's higher ceiling",
        floored_percent(result.share),
        f">= {BURST_SHARE_TARGET:.0%}",
        _verdict(result.share >= BURST_SHARE_TARGET),
    )
    cpu = {name: burst.run.cpu_ms_per_order(name) for name in burst.run.cpu.by_part}
    ours = ", ".join(f"{name} {cpu[name]:.0f} ms" for name in sorted(cpu, key=cpu.__getitem__, reverse=True))
    table.add_row("CPU per order in the burst", ours)
    table.add_row(
        "CPU of all other work during the burst (this client too)",
        f"{burst.run.cpu.elsewhere:.1f} s in {burst.run.steady.whole_seconds:.1f} s",
    )
    table.add_row(
        "Webhook ack in the burst, p50 / p99",
        f"{ms(statistics.median(burst.acks))} / {ms(percentile(burst.acks, 0.99))}",
    )
    table.add_row(
        "Burst orders ending completed", f"{burst.statuses.count('completed')} of {len(burst.statuses)}"
    )
    return table


@dataclass(frozen=True)
class PartCost:
    """One part's cost per order and the order rate at which it saturates."""

    part: str
    per_order: str
    saturates_at: str


def capacity(result: ThroughputResult) -> list[PartCost]:
    """The figures docs/capacity.md uses, from the burst (CPU-bound parts: one core of this machine)."""
    burst = result.burst
    run = burst.run
    ceiling = result.best_ceiling.run.steady.orders_per_s
    sets = result.cpu_sets
    where = f"on {len(sets.shop)} core(s) of its own" if sets else "on 1 core shared with the whole stack"
    shop_ms = run.cpu_ms_per_order(*SHOP_PARTS)
    rows = [
        PartCost(
            "Medusa + PostgreSQL",
            f"{run.calls.total:.1f} calls, {shop_ms:.0f} ms CPU",
            f"{ceiling:.1f} orders/s (measured ceiling, {where})",
        ),
        PartCost(
            "engine",
            f"{burst.engine_jobs_per_order:.1f} jobs, {run.cpu_ms_per_order('engine'):.1f} ms CPU",
            _per_core(run.cpu_ms_per_order("engine")),
        ),
        PartCost(
            "worker",
            f"{run.cpu_ms_per_order('worker'):.1f} ms CPU",
            _per_core(run.cpu_ms_per_order("worker")),
        ),
    ]
    for function, requests in burst.requests_per_order.items():
        cpu_ms = run.cpu_ms_per_order(function)
        rows.append(
            PartCost(
                function,
                f"{requests:.1f} requests, {cpu_ms:.1f} ms CPU ({cpu_ms / requests:.1f} ms per request)",
                _per_core(cpu_ms),
            )
        )
    return rows


def _per_core(cpu_ms_per_order: float) -> str:
    return f"{1000 / cpu_ms_per_order:.0f} orders/s per core (CPU-bound estimate)"


def capacity_table(result: ThroughputResult) -> Table:
    table = Table(title="Capacity figures per order, from the burst (docs/capacity.md)")
    for column in ("Part", "Per order", "Saturates at"):
        table.add_column(column)
    for row in capacity(result):
        table.add_row(row.part, row.per_order, row.saturates_at)
    return table


def phase_sizes(burst: int, ceiling: int) -> dict[str, int]:
    return {"ceiling-warm-up": ceiling, "ceiling-before": ceiling, "burst": burst, "ceiling-after": ceiling}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--burst", type=int, default=100, help="orders in the burst (default 100)")
    parser.add_argument(
        "--ceiling",
        type=int,
        default=60,
        help="fresh orders for Medusa's warm-up and each of its ceilings (default 60)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="callers for Medusa's ceiling (default 8)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--keep", action="store_true", help="keep the run directory and its logs")
    args = parser.parse_args()
    with BenchStack.running(args.keep) as bench:
        result = Throughput(bench, args.concurrency).run(args.burst, args.ceiling)
        console.print(calls_table(bench, phase_sizes(args.burst, args.ceiling)))
    console.print(report(result))
    console.print(capacity_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
