"""Each function's cold start against its floor: what no code of the function's own can go below.

    .venv/bin/python -m benchmarks.cold_start [--rounds 5]

A cold start is a fresh interpreter that builds the function's app with functions-framework (the import)
and answers one real signed request through it (the first answer): `order_webhook` publishes to the local
engine, `status_update` writes a status through the counting proxy to Medusa. The function runs as Cloud
Functions builds it: its deployable zip (tools/package_functions.py) unpacked and compiled to bytecode
with `python3 -m compileall -f -q .`, the step Google's Python functions buildpack runs at deploy time, so
its own modules load from bytecode, as in a deployed instance, and not from source. Its floor is the same
without a line of the function's own: a fresh interpreter imports the libraries that first answer loaded
(every module, in the function's `sys.modules` after answering, of a distribution its requirements.txt
installs other than the project's, in the order the function loaded them), then functions-framework
builds the app of a function that does nothing (benchmarks/floor_function.py) and it answers the same
request. Building an app and answering through it are the framework's cost (and, through the test client
both use, the benchmark's), which no function avoids. It is measured in the same run, interleaved with
the cold starts so a busy moment of the machine hits both alike. Modules the deployed function would not
have (the development tools installed here) cannot be imported in either process, as on Cloud Functions.

The target: a cold start at most 1.2x its floor (the function's own modules, settings, secrets, and the
first answer's round trip take at most a fifth on top of the libraries it cannot do without).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from packaging.utils import canonicalize_name
from rich.table import Table

from benchmarks.figures import ms
from benchmarks.stack import REPO_ROOT, BenchStack, console, order_placed_body
from devstack.shop import PlacedOrder
from fulfillment.signatures import sign_headers

FUNCTIONS: Final = ("order_webhook", "status_update")
FLOOR_TARGET: Final = 1.2
PROJECT_DISTRIBUTION: Final = canonicalize_name("medusa-camunda-fulfillment")


@dataclass(frozen=True)
class Probe:
    """One fresh interpreter: seconds from its spawn to the end of its imports (and to its first answer,
    for a function), its CPU seconds and its peak resident memory."""

    import_s: float
    done_s: float
    cpu_s: float
    rss_mib: float

    @classmethod
    def from_json(cls, result: dict[str, Any]) -> Probe:
        return cls(result["import_s"], result["first_answer_s"], result["cpu_s"], result["rss_mib"])

    @classmethod
    def median(cls, probes: Sequence[Probe]) -> Probe:
        """Each figure's median over the probes."""
        return cls(
            statistics.median(probe.import_s for probe in probes),
            statistics.median(probe.done_s for probe in probes),
            statistics.median(probe.cpu_s for probe in probes),
            statistics.median(probe.rss_mib for probe in probes),
        )


@dataclass(frozen=True)
class ColdStart:
    function: str
    cold: list[Probe]
    floor: list[Probe]
    # What the floor imports: every module of the libraries the first answer loaded, in the order it loaded
    # them, and those libraries' top-level names (for the report).
    floor_modules: list[str]
    floor_libraries: list[str]

    @property
    def typical(self) -> Probe:
        return Probe.median(self.cold)

    @property
    def typical_floor(self) -> Probe:
        return Probe.median(self.floor)

    @property
    def ratio(self) -> float:
        """The cold start's first answer over the floor's (medians)."""
        return self.typical.done_s / self.typical_floor.done_s


@dataclass
class ColdStarts:
    bench: BenchStack

    def run(self, rounds: int) -> list[ColdStart]:
        orders = self.bench.place_orders(len(FUNCTIONS) * rounds, "cold starts")
        self.bench.proxy.phase("cold-start")
        with tempfile.TemporaryDirectory(prefix="cold-start-") as builds:
            results = [
                self.measure(
                    name, deployed_source(name, Path(builds)), orders[index * rounds : (index + 1) * rounds]
                )
                for index, name in enumerate(FUNCTIONS)
            ]
        self.bench.wait_completed([order.id for order in orders[:rounds]])
        return results

    def measure(self, name: str, source: Path, orders: Sequence[PlacedOrder]) -> ColdStart:
        cold: list[Probe] = []
        floor: list[Probe] = []
        modules: list[str] = []
        for order in orders:  # interleaved, so a busy moment of the machine hits both alike
            env, request = self._call(name, order)
            result = _answered(
                f"cold start of {name}", _probe(name, source, ["function", name, request], env)
            )
            if not Path(result["core_package"]).is_relative_to(source):
                raise RuntimeError(
                    f"cold start of {name} loaded {result['core_package']}, not the deployed copy"
                )
            modules = first_answer_library_modules(name, result["modules"])
            cold.append(Probe.from_json(result))
            floored = _probe(name, source, ["floor", request, *modules], {})
            floor.append(Probe.from_json(_answered(f"floor of {name}", floored)))
        return ColdStart(name, cold, floor, modules, sorted({module.partition(".")[0] for module in modules}))

    def _call(self, name: str, order: PlacedOrder) -> tuple[dict[str, str], str]:
        """The function's environment and its first request: a real signed call about the order."""
        secrets = self.bench.route_secrets
        stack = self.bench.stack
        if name == "order_webhook":
            env = {**stack.order_webhook_env(), "ORDER_WEBHOOK_SECRET": self.bench.webhook_secret}
            body, secret = order_placed_body(order), self.bench.webhook_secret
        else:
            env = {**stack.status_update_env(), "MEDUSA_BACKEND_URL": self.bench.proxy.url}
            update = {
                "order_id": order.id,
                "process_instance_key": "2251799813685249",
                "status": "payment_verified",
                "message": "cold start probe",
                "step": "benchmark",
            }
            body, secret = json.dumps(update).encode(), secrets.status_update
        headers = {**sign_headers(secret, body), "content-type": "application/json"}
        return env, json.dumps({"body": body.decode(), "headers": headers})


def _answered(what: str, result: dict[str, Any]) -> dict[str, Any]:
    if result["status"] not in (200, 202):
        raise RuntimeError(f"{what}: answered {result['status']} {result['answer']}")
    return result


def deployed_source(function: str, builds: Path) -> Path:
    """The function's folder as Cloud Functions builds it: its zip unpacked, then compiled as Google's
    Python functions buildpack does before anything runs (`python3 -m compileall -f -q .`), so its own
    modules load from bytecode in each cold start, as in a deployed instance."""
    packaging = [sys.executable, str(REPO_ROOT / "tools" / "package_functions.py"), "--out", str(builds)]
    subprocess.run([*packaging, function], check=True, capture_output=True)
    source = builds / function
    with zipfile.ZipFile(builds / f"{function}.zip") as archive:
        archive.extractall(source)
    subprocess.run([sys.executable, "-m", "compileall", "-f", "-q", "."], cwd=source, check=True)
    return source


def _requirements(function: str) -> set[str]:
    """The distributions the function's requirements.txt installs (normalized names)."""
    lines = (REPO_ROOT / "functions" / function / "requirements.txt").read_text().splitlines()
    return {canonicalize_name(line.split("==")[0]) for line in lines if "==" in line}


def first_answer_library_modules(function: str, loaded: Sequence[str]) -> list[str]:
    """The floor's imports: every module of a library installed with the function (its requirements.txt),
    not the project's own, that the function had loaded by its first answer, in the order it loaded them.
    Whole modules, not only the top-level names: libraries load parts on first use (httpx its transport,
    httpcore and h11, when a client is built; pydantic its model machinery when a model is), and those
    parts are the library's cost, which no code of the function's own could avoid."""
    deployed = _requirements(function) - {PROJECT_DISTRIBUTION}
    distributions = metadata.packages_distributions()
    return [
        module
        for module in loaded
        if any(
            canonicalize_name(dist) in deployed for dist in distributions.get(module.partition(".")[0], [])
        )
    ]


@functools.cache
def absent_modules(function: str) -> list[str]:
    """Top-level modules installed here that the function's requirements.txt does not install."""
    deployed = _requirements(function) | {PROJECT_DISTRIBUTION}
    return sorted(
        module
        for module, distributions in metadata.packages_distributions().items()
        if not any(canonicalize_name(d) in deployed for d in distributions)
    )


def _probe(function: str, source: Path, argv: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Runs the probe in the deployed copy, as Cloud Functions runs main.py: that folder comes first on
    the path, so the core package is its copy; the repository after it only for `benchmarks`."""
    spawned_at = time.monotonic()
    absent = json.dumps(absent_modules(function))
    process = subprocess.run(
        [sys.executable, "-m", "benchmarks.cold_start_probe", str(spawned_at), absent, *argv],
        env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)},
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if process.returncode != 0:
        raise RuntimeError(f"{argv[:2]} exited {process.returncode}: {process.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(process.stdout.strip().splitlines()[-1])
    return result


def report(results: Sequence[ColdStart]) -> Table:
    table = Table(title="Cold starts against their floor (medians, same run)")
    for column in ("Function", "Cold start: import / first answer (CPU), memory", "Floor", "Ratio", ""):
        table.add_column(column)
    for result in results:
        ok = result.ratio <= FLOOR_TARGET
        cold, floor = result.typical, result.typical_floor
        table.add_row(
            result.function,
            f"{ms(cold.import_s)} / {ms(cold.done_s)} ({ms(cold.cpu_s)}), {cold.rss_mib:.0f} MiB",
            f"{ms(floor.done_s)} ({ms(floor.cpu_s)}), {floor.rss_mib:.0f} MiB: "
            + f"{len(result.floor_modules)} modules of "
            + ", ".join(result.floor_libraries),
            f"{result.ratio:.2f}x (target <= {FLOOR_TARGET}x)",
            "[green]met[/]" if ok else "[red]missed[/]",
        )
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="cold starts per function (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the run directory and its logs")
    args = parser.parse_args()
    with BenchStack.running(args.keep) as bench:
        results = ColdStarts(bench).run(args.rounds)
    console.print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
