"""The whole pipeline against a real Medusa, with every call it makes to Medusa counted.

    .venv/bin/python benchmarks/fulfillment_bench.py [--burst 20] [--alone 10] [--concurrency 8]

Brings up the devstack (PostgreSQL, Medusa, the local engine, both functions on functions-framework, the
worker) on free ports in a temporary directory, with a counting proxy (benchmarks/counting_proxy.py)
between Medusa and the functions and worker. The order webhook trusts a benchmark-only secret, so Medusa's
own deliveries are refused and the benchmark decides when each order's webhook arrives. In one run:

1. cold start of each function (import plus first real answer, in a fresh interpreter) against fresh
   interpreters that only import what the function's requirements.txt installs, against the floor (one
   that imports only the libraries the function's first answer loaded) and against the minimum (only
   functions-framework, httpx and, for the order webhook, pyzeebe);
2. orders alone, one after another: webhook acknowledgement and webhook to terminal status, each right
   after one publish to the engine (what an acknowledgement cannot go below: the webhook makes no call to
   Medusa);
3. Medusa's own ceiling, right before and right after the burst: the same plugin routes the pipeline
   called (the worker's order views and the status function's status writes, storing what each order
   already holds), signed and replayed straight to Medusa at a fixed concurrency;
4. a burst: N orders placed first, then all their webhooks sent at once;
5. the failure paths: orders whose stock reservation was deleted end `out_of_stock`, orders whose payment
   was captured and refunded end `payment_failed` (their calls include the plugin's cancel route).

The order reached its end when the proxy sees the status write storing a terminal status come back (no
extra read loads Medusa); calls are counted once the engine reports the instance completed.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import httpx
from packaging.utils import canonicalize_name
from pyzeebe import ZeebeClient
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: the repository's own packages must be importable
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.counting_proxy import CALLER, CANCEL, OTHER, STATUS_WRITE, VIEW  # noqa: E402
from devstack.admin import AdminApi  # noqa: E402
from devstack.engine_view import EngineView  # noqa: E402
from devstack.parts import free_ports, port_open  # noqa: E402
from devstack.processes import wait_until  # noqa: E402
from devstack.shop import PlacedOrder, Shop  # noqa: E402
from devstack.stack import Ports, Stack, WebhookRetry, new_webhook_secret  # noqa: E402
from fulfillment.engine import EngineBridge  # noqa: E402
from fulfillment.medusa import MedusaClient  # noqa: E402
from fulfillment.settings import EngineSettings  # noqa: E402
from fulfillment.signatures import sign_headers  # noqa: E402
from fulfillment.workflow import WORKFLOW_KEYS  # noqa: E402

KINDS: Final = (VIEW, CANCEL, STATUS_WRITE, OTHER)
# The worker's limit on Medusa calls during the benchmark: far above what Medusa answers here.
UNTHROTTLED_CALLS_PER_SECOND: Final = 1000
# At most this many Medusa calls carry one order to `completed`: one view, three status writes (the last
# with the confirmation mail).
CALLS_PER_ORDER_TARGET: Final = 4
# The project's direct dependencies and the module each is imported as: the naive process imports those a
# function's requirements.txt installs.
DIRECT_DEPENDENCIES: Final = {
    "functions-framework": "functions_framework",
    "Flask": "flask",
    "pyzeebe": "pyzeebe",
    "grpcio": "grpc",
    "httpx": "httpx",
    "google-cloud-secret-manager": "google.cloud.secretmanager",
    "google-auth": "google.auth",
    "standardwebhooks": "standardwebhooks",
    "pydantic": "pydantic",
    "pydantic-settings": "pydantic_settings",
    "tenacity": "tenacity",
}
# Medusa's own deliveries are refused (the function trusts another secret), and the reconciliation job
# stays quiet during the run.
BENCH_RETRY: Final = WebhookRetry(max_attempts=1, reconcile_interval_ms=3_600_000)
FLOW_TIMEOUT_SECONDS: Final = 120.0
POLL_SECONDS: Final = 0.02
COLD_START_ROUNDS: Final = 5
# The naive processes a cold start is compared with: every package of the function's requirements.txt, its
# direct dependencies, and (the floor) only the direct dependencies its first answer loaded.
NAIVE_KINDS: Final = ("every", "direct", "floor", "minimum")
# The minimum: what a function cannot answer without, whatever else it chose: the platform's server, the
# HTTP client for Medusa and, to publish, the engine's client.
MINIMUM_MODULES: Final = {
    "order_webhook": ("functions_framework", "httpx", "pyzeebe"),
    "status_update": ("functions_framework", "httpx"),
}

console = Console()


# --- small helpers ------------------------------------------------------------------------------------
def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (p99 of a few samples is their maximum)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


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
    payload = {"type": "order.placed", "timestamp": "2026-01-01T00:00:00Z", "data": data}
    return json.dumps(payload).encode()


@dataclass
class Proxy:
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

    def calls(self, phase: str) -> dict[str, int]:
        counted: dict[str, int] = self.stats()["calls"].get(phase, {})
        return {kind: counted.get(kind, 0) for kind in KINDS}

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


# --- the run ------------------------------------------------------------------------------------------
@dataclass
class Bench:
    stack: Stack
    proxy: Proxy
    secret: str
    concurrency: int
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def admin(self) -> AdminApi:
        assert self.stack.seed is not None
        return AdminApi(self.stack.medusa_url, token=self.stack.admin_token)

    # Orders ----------------------------------------------------------------------------------
    def place_orders(self, count: int, what: str) -> list[PlacedOrder]:
        """Real orders through the Store API whose own webhook delivery Medusa has already given up on."""
        seed = self.stack.seed
        assert seed is not None
        placed: list[PlacedOrder] = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"placing {count} orders ({what})", total=count)

            def place(_: int) -> PlacedOrder:
                # One customer each: Medusa refuses to create one guest customer twice at the same time.
                email = f"bench-{secrets.token_hex(6)}@example.com"
                with Shop(self.stack.medusa_url, seed.publishable_key, seed.region_id) as shop:
                    order = shop.place_order(seed.variant_id, email=email)
                progress.advance(task)
                return order

            with ThreadPoolExecutor(4) as pool:
                placed = list(pool.map(place, range(count)))
        medusa_log = self.stack.group.get("medusa").log_path

        def all_refused() -> bool:
            text = medusa_log.read_text(errors="replace")
            return all(f"{order.id}: permanently rejected" in text for order in placed)

        wait_until(all_refused, 60, "Medusa's own webhook deliveries to be refused")
        return placed

    def send_webhook(self, http: httpx.Client, order: PlacedOrder) -> tuple[float, float]:
        """(sent at, acknowledgement seconds) of one signed order.placed webhook answered 202 started."""
        body = order_placed_body(order)
        headers = {**sign_headers(self.secret, body), "content-type": "application/json"}
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

    def per_order(self, phase: str, count: int) -> dict[str, float]:
        calls = self.proxy.calls(phase)
        return {kind: calls[kind] / count for kind in KINDS}

    # Phases ----------------------------------------------------------------------------------
    def cold_starts(self, rounds: int = COLD_START_ROUNDS) -> None:
        orders = self.place_orders(2 * rounds, "cold starts")
        self.proxy.phase("cold-start")
        for name, placed in (("order_webhook", orders[:rounds]), ("status_update", orders[rounds:])):
            runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in ("function", *NAIVE_KINDS)}
            for order in placed:  # interleaved, so a busy moment of the machine hits all of them alike
                runs["function"].append(self._cold_start(name, order))
                runs["direct"].append(self._naive(name, direct_dependency_modules(name)))
                runs["every"].append(self._naive(name, every_requirement_modules(name)))
                loaded = runs["function"][-1]["modules"]
                runs["floor"].append(self._naive(name, first_answer_dependency_modules(name, loaded)))
                runs["minimum"].append(self._naive(name, MINIMUM_MODULES[name]))
            self.figures[f"cold/{name}"] = {
                "import_s": _median(runs["function"], "import_s"),
                "first_answer_s": _median(runs["function"], "first_answer_s"),
                "rss_mib": _median(runs["function"], "rss_mib"),
                "cpu_s": _median(runs["function"], "cpu_s"),
                **{f"{kind}_s": _median(runs[kind], "import_s") for kind in NAIVE_KINDS},
                **{f"{kind}_cpu_s": _median(runs[kind], "cpu_s") for kind in NAIVE_KINDS},
                **{f"{kind}_rss_mib": _median(runs[kind], "rss_mib") for kind in NAIVE_KINDS},
            }
        self.wait_completed([order.id for order in orders[:rounds]])

    def _request(self, name: str, order: PlacedOrder) -> dict[str, Any]:
        assert self.stack.secrets is not None
        if name == "order_webhook":
            body, secret = order_placed_body(order), self.secret
        else:
            update = {
                "order_id": order.id,
                "process_instance_key": "2251799813685249",
                "status": "payment_verified",
                "message": "cold start probe",
                "step": "benchmark",
            }
            body, secret = json.dumps(update).encode(), self.stack.secrets.status_update
        headers = {**sign_headers(secret, body), "content-type": "application/json"}
        return {"body": body.decode(), "headers": headers}

    def _cold_start(self, name: str, order: PlacedOrder) -> dict[str, Any]:
        if name == "order_webhook":
            env = {**self.stack.order_webhook_env(), "ORDER_WEBHOOK_SECRET": self.secret}
        else:
            env = {**self.stack.status_update_env(), "MEDUSA_BACKEND_URL": self.proxy.url}
        request = json.dumps(self._request(name, order))
        result = _child(
            name, [str(REPO_ROOT / "benchmarks" / "cold_start.py"), "function", name, request], env
        )
        if result["status"] not in (200, 202):
            raise RuntimeError(f"cold start of {name}: answered {result['status']} {result['answer']}")
        return result

    def _naive(self, name: str, modules: Sequence[str]) -> dict[str, Any]:
        return _child(name, [str(REPO_ROOT / "benchmarks" / "cold_start.py"), "naive", *modules], {})

    def alone(self, count: int) -> list[PlacedOrder]:
        """Orders one after another. Right before each webhook, one publish to the engine: the floor of
        an acknowledgement (the webhook makes no call to Medusa), measured in the same moments, since
        other work on the machine changes the pace from minute to minute."""
        orders = self.place_orders(count + 1, "alone")
        bridge = EngineBridge.from_settings(EngineSettings(zeebe_address=self.stack.engine_address))
        acks, flows, statuses, floors = [], [], [], []
        try:
            with httpx.Client(timeout=30) as http:
                self.proxy.phase("warm-up")  # the function opens its engine connection on its first request
                _publish(bridge, orders[0].id)
                self.send_webhook(http, orders[0])
                self.wait_completed([orders[0].id])
                for order in orders[1:]:
                    floors.append(_publish(bridge, order.id))
                    self.proxy.phase("alone")
                    sent, acked = self.send_webhook(http, order)
                    status, done = self.proxy.terminal_at([order.id], FLOW_TIMEOUT_SECONDS)[order.id]
                    self.wait_completed([order.id])
                    acks.append(acked)
                    flows.append(done - sent)
                    statuses.append(status)
        finally:
            bridge.close()
        self.figures["alone"] = {
            "acks": acks,
            "flows": flows,
            "statuses": statuses,
            "publish": floors,
            "calls": self.per_order("alone", count),
        }
        return orders[1:]

    def burst(self, orders: Sequence[PlacedOrder]) -> None:
        count = len(orders)
        self.proxy.phase("burst")
        results: list[tuple[float, float]] = []
        gate = threading.Barrier(count)
        cpu_before, machine_before = cpu_by_part(self.stack), machine_cpu_seconds()
        with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=count)) as http:

            def fire(order: PlacedOrder) -> tuple[float, float]:
                gate.wait()
                return self.send_webhook(http, order)

            with ThreadPoolExecutor(count) as pool:
                results = list(pool.map(fire, orders))
        ended = self.proxy.terminal_at([o.id for o in orders], FLOW_TIMEOUT_SECONDS)
        self.wait_completed([o.id for o in orders])
        cpu_after, machine_after = cpu_by_part(self.stack), machine_cpu_seconds()
        first_sent = min(sent for sent, _ in results)
        last_done = max(done for _, done in ended.values())
        parts = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
        self.figures["burst"] = {
            "cpu_s_by_part": parts,
            "cpu_s_elsewhere": machine_after - machine_before - sum(parts.values()),
            "orders": count,
            "seconds": last_done - first_sent,
            "acks": [acked for _, acked in results],
            "statuses": [status for status, _ in ended.values()],
            "calls": self.per_order("burst", count),
        }

    def failure_path(self, outcome: str, count: int) -> None:
        """Orders made to fail before their webhook: `out_of_stock` (reservations deleted) or
        `payment_failed` (payment captured and refunded in full, so no money is held any more)."""
        orders = self.place_orders(count, outcome)
        spoil = _delete_reservations if outcome == "out_of_stock" else _refund_payment
        with self.admin as admin:
            for order in orders:
                spoil(admin, order.id)
        self.proxy.phase(outcome)
        with httpx.Client(timeout=30) as http:
            for order in orders:
                self.send_webhook(http, order)
                self.proxy.terminal_at([order.id], FLOW_TIMEOUT_SECONDS)
                self.wait_completed([order.id])
        ended = self.proxy.terminal_at([o.id for o in orders], 1)
        self.figures[outcome] = {
            "statuses": [status for status, _ in ended.values()],
            "calls": self.per_order(outcome, count),
        }

    def ceiling(self, when: str, orders: Sequence[PlacedOrder], phase: str) -> None:
        """Medusa's own rates on the routes the pipeline calls, straight to Medusa at the benchmark's
        concurrency: the plugin's status route (storing what each order already holds) and exactly the
        phase's order views, each signed as its caller signs it."""
        assert self.stack.secrets is not None
        views = list(self.proxy.stats()["views"].get(phase, []))
        with self.admin as admin:
            stored = [(order.id, _workflow_keys(admin, order.id)) for order in orders]
        writer = MedusaClient(self.stack.medusa_url, self.stack.secrets.medusa_status, timeout_seconds=60)
        reader = MedusaClient(self.stack.medusa_url, self.stack.secrets.medusa_worker, timeout_seconds=60)
        try:
            writes = [functools.partial(_rewrite, writer, order_id, keys) for order_id, keys in stored]
            reads = [functools.partial(reader.view_order, order_id) for order_id in views]
            self.figures.setdefault("ceilings", {})[when] = {
                "writes_per_s": _rate(writes * 3, self.concurrency),
                "reads_per_s": _rate(reads * 2, self.concurrency),
                "concurrency": self.concurrency,
            }
        finally:
            writer.close()
            reader.close()


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


def cpu_by_part(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack with all its descendants (Medusa's workers,
    PostgreSQL's backends)."""
    children, cpu = _process_table()

    def tree(pid: int) -> float:
        return cpu.get(pid, 0.0) + sum(tree(child) for child in children.get(pid, []))

    return {part.name: tree(part.pid) for part in stack.group.processes}


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (every process, ours or not)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    idle = int(fields[3]) + int(fields[4])
    return (sum(int(value) for value in fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


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


def _rate(calls: Sequence[Callable[[], object]], concurrency: int) -> float:
    """Calls per second with `concurrency` callers working through `calls` (each must succeed)."""
    pending = iter(calls)
    lock = threading.Lock()

    def caller() -> None:
        while True:
            with lock:
                call = next(pending, None)
            if call is None:
                return
            call()

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(caller) for _ in range(concurrency)]:
            future.result()
    return len(calls) / (time.monotonic() - started)


def _workflow_keys(admin: AdminApi, order_id: str) -> dict[str, Any]:
    metadata = admin.order_metadata(order_id)
    return {key: metadata[key] for key in WORKFLOW_KEYS if key in metadata}


def _rewrite(writer: MedusaClient, order_id: str, keys: dict[str, Any]) -> None:
    """The pipeline's status write for this order, storing exactly what the order already holds."""
    writer.write_status(order_id, keys, [keys.get("workflow_status")])


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


def _median(runs: Sequence[dict[str, Any]], key: str) -> float:
    return statistics.median(float(run[key]) for run in runs)


def _requirements(function: str) -> set[str]:
    """The distributions the function's requirements.txt installs (normalized names)."""
    lines = (REPO_ROOT / "functions" / function / "requirements.txt").read_text().splitlines()
    return {canonicalize_name(line.split("==")[0]) for line in lines if "==" in line}


def direct_dependency_modules(function: str) -> list[str]:
    """The naive process's imports: each direct dependency of the project that the function installs."""
    deployed = _requirements(function)
    return [module for dist, module in DIRECT_DEPENDENCIES.items() if canonicalize_name(dist) in deployed]


def every_requirement_modules(function: str) -> list[str]:
    """The naive process's imports, taken literally: every package its requirements.txt installs (each
    distribution's top-level modules; Google's namespace packages by their direct-dependency module)."""
    deployed = _requirements(function)
    top_level = {
        module
        for module, distributions in metadata.packages_distributions().items()
        if any(canonicalize_name(d) in deployed for d in distributions)
        and not module.startswith("_")
        and module != "google"
    }
    return sorted(top_level | set(direct_dependency_modules(function)))


def first_answer_dependency_modules(function: str, loaded: Sequence[str]) -> list[str]:
    """The floor: the direct dependencies a function had loaded by its first answer. No import order or
    laziness of the function's own can go below importing these."""
    return [module for module in direct_dependency_modules(function) if module in loaded]


@functools.cache
def absent_modules(function: str) -> list[str]:
    """Top-level modules installed here that the function's requirements.txt does not install."""
    deployed = _requirements(function) | {canonicalize_name("medusa-camunda-fulfillment")}
    return sorted(
        module
        for module, distributions in metadata.packages_distributions().items()
        if not any(canonicalize_name(d) in deployed for d in distributions)
    )


def _child(function: str, argv: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    spawned_at = time.monotonic()
    absent = json.dumps(absent_modules(function))
    process = subprocess.run(
        [sys.executable, argv[0], str(spawned_at), absent, *argv[1:]],
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if process.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {process.returncode}: {process.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(process.stdout.strip().splitlines()[-1])
    return result


# --- the report ---------------------------------------------------------------------------------------
def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("[green]met[/]" if ok else "[red]missed[/]")


def report(figures: dict[str, Any], burst_size: int) -> Table:
    table = Table(title="Fulfillment pipeline against a real Medusa (one run)", show_lines=False)
    for column in ("Figure", "Measured", "Target", ""):
        table.add_column(column)

    def row(name: str, measured: str, target: str = "", ok: bool | None = None) -> None:
        table.add_row(name, measured, target, _verdict(ok))

    def calls(per_order: dict[str, float]) -> tuple[float, str]:
        total = sum(per_order.values())
        by_part = dict.fromkeys(("order_webhook", *dict.fromkeys(CALLER.values())), 0.0)
        for kind in KINDS:
            by_part[CALLER[kind]] += per_order[kind]
        parts = ", ".join(f"{part} {count:.1f}" for part, count in by_part.items())
        kinds = ", ".join(f"{per_order[kind]:.1f} {kind.replace('_', ' ')}" for kind in KINDS)
        return total, f"{total:.1f}: {parts} ({kinds})"

    target = CALLS_PER_ORDER_TARGET
    alone, burst = figures["alone"], figures["burst"]
    total, text = calls(alone["calls"])
    row("Medusa calls per order, alone", text, f"<= {target}", total <= target)
    burst_total, text = calls(burst["calls"])
    row(f"Medusa calls per order, burst of {burst_size}", text, f"<= {target}", burst_total <= target)
    for outcome in ("out_of_stock", "payment_failed"):
        _, text = calls(figures[outcome]["calls"])
        row(f"Medusa calls per order, {outcome} path", text, "counted")

    orders_per_s = burst["orders"] / burst["seconds"]
    per_order = burst["calls"]
    reads = per_order[VIEW] + per_order[CANCEL] + per_order[OTHER]
    row(f"Burst of {burst_size}: orders/s", f"{orders_per_s:.2f}")
    ceiling_orders_per_s = []
    for when, ceiling in figures["ceilings"].items():
        allows = 1 / (per_order[STATUS_WRITE] / ceiling["writes_per_s"] + reads / ceiling["reads_per_s"])
        ceiling_orders_per_s.append(allows)
        row(
            f"Medusa's ceiling {when} the burst (concurrency {ceiling['concurrency']})",
            f"{ceiling['writes_per_s']:.1f} status writes/s, {ceiling['reads_per_s']:.1f} views/s "
            f"= {allows:.2f} orders/s at {burst_total:.1f} calls/order",
        )
    share = orders_per_s / max(ceiling_orders_per_s)
    # Floored, so a share printed as 80% has reached 80%.
    row("Burst / Medusa's higher ceiling", f"{math.floor(share * 100)}%", ">= 90%", share >= 0.9)
    cpu = {name: seconds / burst["orders"] for name, seconds in burst["cpu_s_by_part"].items()}
    shop = cpu.pop("medusa", 0.0) + cpu.pop("postgres", 0.0)
    ours = ", ".join(f"{name} {ms(seconds)}" for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]))
    row("CPU per order in the burst", f"Medusa + PostgreSQL {ms(shop)}; {ours}")
    row(
        "CPU of all other work meanwhile (this client too)",
        f"{burst['cpu_s_elsewhere']:.1f} s in {burst['seconds']:.1f} s",
    )

    flow_p50 = statistics.median(alone["flows"])
    row(
        f"One order alone: webhook to end, p50 (n={len(alone['flows'])})",
        ms(flow_p50),
        "<= 800 ms",
        flow_p50 <= 0.8,
    )
    floors = alone["publish"]
    floor_p50, floor_p99 = statistics.median(floors), percentile(floors, 0.99)
    row("One publish before each webhook, p50 / p99", f"{ms(floor_p50)} / {ms(floor_p99)}")
    ack_p99 = percentile(alone["acks"], 0.99)
    row("Webhook ack alone, p50 / p99", f"{ms(statistics.median(alone['acks']))} / {ms(ack_p99)}")
    # The acknowledgement is one publish plus the function's own work (signature, schema): its tail is
    # held to the floor's typical time and, like for like, to the floor's own tail.
    for name, floor in (("p50", floor_p50), ("p99", floor_p99)):
        row(
            f"  ack p99 / publish {name}",
            f"{ack_p99 / floor:.2f}x",
            "<= 1.5x",
            ack_p99 <= 1.5 * floor,
        )
    row(
        "Webhook ack in the burst, p50 / p99",
        f"{ms(statistics.median(burst['acks']))} / {ms(percentile(burst['acks'], 0.99))}",
    )
    for name in ("order_webhook", "status_update"):
        cold = figures[f"cold/{name}"]
        row(
            f"Cold start {name}: import / + first answer (CPU)",
            f"{ms(cold['import_s'])} / {ms(cold['first_answer_s'])} ({ms(cold['cpu_s'])}), "
            f"{cold['rss_mib']:.0f} MiB",
        )
        for kind, what in (
            ("every", "every package of its requirements.txt"),
            ("direct", "only its direct dependencies"),
        ):
            ratio = cold["first_answer_s"] / cold[f"{kind}_s"]
            cpu_ratio = cold["cpu_s"] / cold[f"{kind}_cpu_s"]
            row(
                f"  vs a process importing {what}",
                f"{ms(cold[f'{kind}_s'])} ({ms(cold[f'{kind}_cpu_s'])}), {cold[f'{kind}_rss_mib']:.0f} MiB: "
                f"{ratio:.2f}x (CPU {cpu_ratio:.2f}x)",
                "<= 0.5x",
                ratio <= 0.5,
            )
        # What no change to the function's own code, or to its choice of libraries, can go below.
        for kind, what in (
            ("floor", "floor: a process importing only the libraries its first answer loaded"),
            ("minimum", f"minimum: a process importing only {', '.join(MINIMUM_MODULES[name])}"),
        ):
            row(
                f"  {what}",
                f"{ms(cold[f'{kind}_s'])} ({ms(cold[f'{kind}_cpu_s'])}), {cold[f'{kind}_rss_mib']:.0f} MiB: "
                f"{cold[f'{kind}_s'] / cold['every_s']:.2f}x "
                f"(CPU {cold[f'{kind}_cpu_s'] / cold['every_cpu_s']:.2f}x) of the every-package process",
            )
    statuses = [*alone["statuses"], *burst["statuses"]]
    row("Happy-path orders ending completed", f"{statuses.count('completed')} of {len(statuses)}")
    for outcome in ("out_of_stock", "payment_failed"):
        ended = figures[outcome]["statuses"]
        row(f"Failure-path orders ending {outcome}", f"{ended.count(outcome)} of {len(ended)}")
    return table


def calls_table(figures: dict[str, Any], phases: dict[str, int]) -> Table:
    """Each kind of Medusa call: how many per order and how long Medusa took to answer it, per phase."""
    table = Table(title="Medusa calls per order, by request (through the counting proxy)")
    for column in ("Phase", "Request", "Per order", "Mean answer"):
        table.add_column(column)
    for phase, orders in phases.items():
        paths = figures["paths"].get(phase, {})
        for call, count in sorted(paths.items()):
            mean = figures["seconds"][phase][call] / count
            table.add_row(phase, call, f"{count / orders:.2f}", ms(mean))
    return table


def run(args: argparse.Namespace) -> dict[str, Any]:
    run_dir = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    run_dir.chmod(0o755)  # PostgreSQL runs as its own system user when we are root
    *stack_ports, proxy_port = free_ports(7)
    ports = Ports(*stack_ports)
    proxy = Proxy(f"http://127.0.0.1:{proxy_port}")
    stack = Stack(
        run_dir / "run",
        ports,
        webhook_retry=BENCH_RETRY,
        medusa_client_url=proxy.url,
        say=lambda line: console.log(line),
    )
    secret = new_webhook_secret()
    try:
        stack.run_dir.mkdir(parents=True)
        argv = [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "counting_proxy.py"),
            "--port",
            str(proxy_port),
        ]
        counting = stack.group.start("proxy", [*argv, "--upstream", stack.medusa_url], {}, cwd=REPO_ROOT)
        wait_until(lambda: port_open(proxy_port), 30, "the counting proxy", counting)
        stack.start()
        stack.stop_part("order_webhook")
        stack.start_order_webhook({"ORDER_WEBHOOK_SECRET": secret})
        # The pipeline against Medusa's own ceiling: the worker's client-side limit on Medusa calls
        # (MEDUSA_CALLS_PER_SECOND, a deployment's share of that ceiling) is lifted for the run.
        stack.stop_part("worker")
        stack.start_worker({"MEDUSA_CALLS_PER_SECOND": str(UNTHROTTLED_CALLS_PER_SECOND)})
        bench = Bench(stack, proxy, secret, args.concurrency)
        console.log("[bold]cold starts[/]")
        bench.cold_starts()
        console.log("[bold]orders alone[/]")
        alone_orders = bench.alone(args.alone)
        burst_orders = bench.place_orders(args.burst, "burst")
        # Other work on the machine changes Medusa's pace from minute to minute: its ceiling is measured
        # right before and right after the burst, and the burst is compared with the higher of the two.
        console.log("[bold]Medusa's own ceiling, before the burst[/]")
        bench.ceiling("before", alone_orders, "alone")
        console.log(f"[bold]burst of {args.burst}[/]")
        bench.burst(burst_orders)
        console.log("[bold]Medusa's own ceiling, after the burst[/]")
        bench.ceiling("after", burst_orders, "burst")
        for outcome in ("out_of_stock", "payment_failed"):
            console.log(f"[bold]failure path: {outcome}[/]")
            bench.failure_path(outcome, args.failures)
        stats = proxy.stats()
        bench.figures["paths"] = stats["paths"]
        bench.figures["seconds"] = stats["seconds"]
    except BaseException:
        console.log(f"benchmark failed; logs kept in {run_dir}")
        raise
    finally:
        stack.stop()
        proxy.http.close()
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return bench.figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--burst", type=int, default=20, help="orders in the burst (default 20)")
    parser.add_argument("--alone", type=int, default=10, help="orders sent one after another (default 10)")
    parser.add_argument("--failures", type=int, default=2, help="orders per failure path (default 2)")
    parser.add_argument("--concurrency", type=int, default=8, help="callers for Medusa's ceiling (default 8)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--keep", action="store_true", help="keep the run directory and its logs")
    parser.add_argument(
        "--report", type=Path, help="only print the tables of a run saved with --json (same options)"
    )
    args = parser.parse_args()
    figures = json.loads(args.report.read_text()) if args.report else run(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    console.print(
        calls_table(figures, {"alone": args.alone, "burst": args.burst, "out_of_stock": args.failures})
    )
    console.print(report(figures, args.burst))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
