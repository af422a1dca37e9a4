"""The stack the pipeline benchmarks run against, and what they share: placing orders, sending webhooks,
waiting for their end, reading each part's CPU time.

`BenchStack.running()` brings up the devstack (PostgreSQL, Medusa, the local engine, both functions on
functions-framework, the worker) on free ports in a temporary directory, with a counting proxy
(`benchmarks.counting_proxy`) between Medusa and the functions and worker. The order webhook trusts a
benchmark-only secret, so Medusa's own deliveries are refused and the benchmark decides when each order's
webhook arrives; the worker's client-side limit on Medusa calls is lifted for the run. Once up, the shop's
processes and the pipeline's (with this process) are pinned to separate CPUs (`benchmarks.cpu_sets`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from benchmarks.cpu_sets import CpuSets, cpu_busy_seconds, pin_threads, pin_tree
from benchmarks.figures import ms
from devstack.admin import AdminApi
from devstack.engine_view import EngineView
from devstack.parts import free_ports, port_open
from devstack.processes import wait_until
from devstack.shop import PlacedOrder, Shop
from devstack.stack import Ports, Secrets, Stack, WebhookRetry, new_webhook_secret
from fulfillment.signatures import sign_headers

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
# The worker's rate of Medusa calls during the benchmark: far above what Medusa answers here, so the
# pipeline meets Medusa's own ceiling, not a deployment's share of it. Its bound on calls in flight keeps
# the default (MEDUSA_MAX_CALLS_IN_FLIGHT), as a deployment has it.
UNTHROTTLED_CALLS_PER_SECOND: Final = 1000
# Medusa's own deliveries are refused (the function trusts another secret), and the reconciliation job
# stays quiet during the run.
BENCH_RETRY: Final = WebhookRetry(max_attempts=1, reconcile_interval_ms=3_600_000)
FLOW_TIMEOUT_SECONDS: Final = 300.0
POLL_SECONDS: Final = 0.02
PLACING_THREADS: Final = 4

console = Console()


def order_placed_body(order: PlacedOrder) -> bytes:
    """The event as the plugin signs it after reading the order (docs/contracts.md)."""
    data = {
        "id": order.id,
        "display_id": order.display_id,
        "currency_code": "eur",
        "total": order.total,
        "created_at": "2026-01-01T00:00:00Z",
        "workflow_status": None,
    }
    payload = {"type": "order.placed", "occurred_at": "2026-01-01T00:00:00Z", "data": data}
    return json.dumps(payload).encode()


def _delivery_ended(medusa_log: str, order_id: str) -> bool:
    """Whether Medusa stopped delivering the order's own webhook: refused by the function (which trusts
    only the benchmark's secret), or given up after a failed attempt (the plugin's webhook-sender.ts)."""
    delivery = f"webhook msg_order_placed_{order_id}: "
    return f"{delivery}permanently rejected" in medusa_log or f"{delivery}gave up after" in medusa_log


@dataclass(frozen=True)
class Exchange:
    """One call the pipeline made to a plugin route, as the counting proxy forwarded it."""

    kind: str
    path: str
    body: str


@dataclass
class Proxy:
    """The counting proxy's control routes (benchmarks/counting_proxy.py)."""

    url: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def phase(self, name: str) -> None:
        self.http.post("/__bench/phase", json={"name": name}).raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = self.http.get("/__bench/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def exchanges(self, phase: str) -> dict[str, list[Exchange]]:
        """Each order's calls in the phase, in the order they were made."""
        response = self.http.get("/__bench/exchanges", params={"phase": phase})
        response.raise_for_status()
        return {order: [Exchange(*call) for call in calls] for order, calls in response.json().items()}

    def terminal_at(self, order_ids: Iterable[str], timeout: float) -> dict[str, tuple[str, float]]:
        """Waits until every order's terminal status write came back; (status, when) per order."""
        wanted = set(order_ids)
        deadline = time.monotonic() + timeout
        while True:
            ended = self.http.get("/__bench/ended")
            ended.raise_for_status()
            # The proxy stamped each write when its answer came back: polling late does not shift it.
            seen = {k: (v[0], v[1]) for k, v in ended.json().items() if k in wanted}
            if len(seen) == len(wanted):
                return seen
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no terminal status within {timeout:.0f} s for {sorted(wanted - set(seen))}"
                )
            time.sleep(POLL_SECONDS)


@dataclass
class BenchStack:
    stack: Stack
    proxy: Proxy
    webhook_secret: str
    cpu_sets: CpuSets | None

    @classmethod
    @contextmanager
    def running(cls, keep: bool = False) -> Iterator[BenchStack]:
        run_dir = Path(tempfile.mkdtemp(prefix="bench-stack-"))
        run_dir.chmod(0o755)  # PostgreSQL runs as its own system user when we are root
        *stack_ports, proxy_port = free_ports(7)
        proxy = Proxy(f"http://127.0.0.1:{proxy_port}")
        stack = Stack(
            run_dir / "run",
            Ports(*stack_ports),
            webhook_retry=BENCH_RETRY,
            medusa_client_url=proxy.url,
            say=lambda line: console.log(line),
        )
        secret = new_webhook_secret()
        try:
            stack.run_dir.mkdir(parents=True)
            argv = [sys.executable, "-m", "benchmarks.counting_proxy", "--port", str(proxy_port)]
            counting = stack.group.start("proxy", [*argv, "--upstream", stack.medusa_url], {}, cwd=REPO_ROOT)
            wait_until(lambda: port_open(proxy_port), 30, "the counting proxy", counting)
            stack.start()
            stack.stop_part("order_webhook")
            stack.start_order_webhook({"ORDER_WEBHOOK_SECRET": secret})
            stack.stop_part("worker")
            stack.start_worker({"MEDUSA_CALLS_PER_SECOND": str(UNTHROTTLED_CALLS_PER_SECOND)})
            yield cls(stack, proxy, secret, _keep_apart(stack))
        except BaseException:
            console.log(f"benchmark failed; logs kept in {run_dir}")
            keep = True
            raise
        finally:
            stack.stop()
            proxy.http.close()
            if not keep:
                shutil.rmtree(run_dir, ignore_errors=True)

    @property
    def route_secrets(self) -> Secrets:
        assert self.stack.secrets is not None
        return self.stack.secrets

    def admin(self) -> AdminApi:
        return AdminApi(self.stack.medusa_url, token=self.stack.admin_token)

    def log_path(self, part: str) -> Path:
        return self.stack.group.get(part).log_path

    # Orders ------------------------------------------------------------------------------------------
    def place_orders(self, count: int, what: str) -> list[PlacedOrder]:
        """Real orders through the Store API whose own webhook delivery Medusa has already given up on."""
        seed = self.stack.seed
        assert seed is not None
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"placing {count} orders ({what})", total=count)

            def place(_: int) -> PlacedOrder:
                # One customer each: Medusa refuses to create one guest customer twice at the same time.
                email = f"bench-{secrets.token_hex(6)}@example.com"
                with Shop(self.stack.medusa_url, seed.publishable_key, seed.region_id) as shop:
                    order = shop.place_order(seed.variant_id, email=email)
                progress.advance(task)
                return order

            with ThreadPoolExecutor(PLACING_THREADS) as pool:
                placed = list(pool.map(place, range(count)))
        medusa_log = self.log_path("medusa")

        def all_ended() -> bool:
            text = medusa_log.read_text(errors="replace")
            return all(_delivery_ended(text, order.id) for order in placed)

        wait_until(all_ended, 120, "Medusa's own webhook deliveries to end")
        return placed

    def send_webhook(self, http: httpx.Client, order: PlacedOrder) -> tuple[float, float]:
        """(sent at, acknowledgement seconds) of one signed order.placed webhook answered 202 started."""
        body = order_placed_body(order)
        headers = {**sign_headers(self.webhook_secret, body), "content-type": "application/json"}
        sent = time.monotonic()
        response = http.post(self.stack.order_webhook_url, content=body, headers=headers)
        acked = time.monotonic() - sent
        if response.status_code != 202 or response.json().get("status") != "started":
            raise RuntimeError(f"webhook for {order.id}: {response.status_code} {response.text}")
        return sent, acked

    def wait_completed(self, order_ids: Sequence[str]) -> None:
        """Until the engine reports every order's instance completed: all their Medusa calls are made."""
        view = EngineView(self.stack.engine_http_url)
        try:
            wait_until(
                lambda: all(
                    [i["state"] for i in view.instances_for(order_id)] == ["COMPLETED"]
                    for order_id in order_ids
                ),
                FLOW_TIMEOUT_SECONDS,
                "the instances to complete",
                interval=0.05,
            )
        finally:
            view.close()

    def engine_jobs(self, order_ids: Iterable[str]) -> int:
        """Jobs the engine created for these orders' instances (every job type)."""
        wanted = set(order_ids)
        with httpx.Client(base_url=self.stack.engine_http_url, timeout=30) as http:
            instances = http.get("/process-instances").raise_for_status().json()["items"]
            keys = {item["key"] for item in instances if item["correlation_key"] in wanted}
            jobs = http.get("/jobs").raise_for_status().json()["items"]
        return sum(1 for job in jobs if job["process_instance_key"] in keys)

    def function_requests(self, part: str, event: str, order_ids: Iterable[str]) -> int:
        """Requests a function handled for these orders: its one log line per request (`event`)."""
        wanted = set(order_ids)
        count = 0
        for line in self.log_path(part).read_text(errors="replace").splitlines():
            if event not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            count += entry.get("event") == event and entry.get("order_id") in wanted
        return count

    # CPU -------------------------------------------------------------------------------------------------
    def cpu_by_part(self) -> dict[str, float]:
        """CPU seconds used so far by each part of the stack with all its descendants (Medusa's workers,
        PostgreSQL's backends)."""
        children, cpu = _process_table()

        def tree(pid: int) -> float:
            return cpu.get(pid, 0.0) + sum(tree(child) for child in children.get(pid, []))

        return {part.name: tree(part.pid) for part in self.stack.group.processes}


def _keep_apart(stack: Stack) -> CpuSets | None:
    """Splits the CPUs this process may use between the shop and the pipeline, and pins both."""
    cpu_sets = CpuSets.split(os.sched_getaffinity(0))
    if cpu_sets is None:
        console.log("one CPU only: the shop and the pipeline share it in every phase (no pinning)")
        return None
    _pin(stack, cpu_sets)
    console.log(f"CPU sets: {cpu_sets.describe(part.name for part in stack.group.processes)}")
    return cpu_sets


def _pin(stack: Stack, cpu_sets: CpuSets) -> None:
    children, _ = _process_table()
    for part in stack.group.processes:
        pin_tree(part.pid, cpu_sets.for_part(part.name), children)
    # Only this process's own threads: its children are the stack's parts, pinned above.
    pin_threads(os.getpid(), cpu_sets.pipeline)


def calls_table(bench: BenchStack, phases: dict[str, int]) -> Table:
    """Each kind of Medusa call: how many per order and how long Medusa took to answer it, per phase."""
    stats = bench.proxy.stats()
    table = Table(title="Medusa calls per order, by request (through the counting proxy)")
    for column in ("Phase", "Request", "Per order", "Mean answer"):
        table.add_column(column)
    for phase, orders in phases.items():
        for call, count in sorted(stats["paths"].get(phase, {}).items()):
            mean = stats["seconds"][phase][call] / count
            table.add_row(phase, call, f"{count / orders:.2f}", ms(mean))
    return table


@dataclass(frozen=True)
class CpuWindow:
    """CPU seconds each part of the stack, the whole machine and each CPU used between two moments
    `seconds` apart."""

    by_part: dict[str, float]
    machine: float
    by_cpu: dict[int, float]
    seconds: float

    @property
    def elsewhere(self) -> float:
        """The machine's busy CPU seconds outside the stack (other work, and this client)."""
        return self.machine - sum(self.by_part.values())


@dataclass(frozen=True)
class CpuReading:
    """CPU seconds used so far by each part and by the machine; `since` gives a window's use."""

    by_part: dict[str, float]
    machine: float
    by_cpu: dict[int, float]
    at: float

    @classmethod
    def now(cls, bench: BenchStack) -> CpuReading:
        return cls(bench.cpu_by_part(), machine_cpu_seconds(), cpu_busy_seconds(), time.monotonic())

    def until_now(self, bench: BenchStack) -> CpuWindow:
        later = CpuReading.now(bench)
        by_part = {name: later.by_part[name] - self.by_part.get(name, 0.0) for name in later.by_part}
        by_cpu = {cpu: later.by_cpu[cpu] - self.by_cpu.get(cpu, 0.0) for cpu in later.by_cpu}
        return CpuWindow(by_part, later.machine - self.machine, by_cpu, later.at - self.at)


def _process_table() -> tuple[dict[int, list[int]], dict[int, float]]:
    """Children of every process, and each one's CPU seconds (its own and its reaped children's)."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        cpu[int(entry.name)] = sum(int(value) for value in fields[11:15]) / ticks
    return children, cpu


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (every process, ours or not)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    idle = int(fields[3]) + int(fields[4])
    return (sum(int(value) for value in fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
