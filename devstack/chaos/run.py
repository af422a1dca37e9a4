"""One seeded run against a running chaos stack: orders placed over `duration` seconds while the nemesis
plays its schedule, then the drain and the checker.

The same seed gives the same cases in the same order and the same faults at the same seconds; what the
machine's timing then makes of them differs from run to run, and faults.jsonl says when each fault
really started and ended.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from devstack.chaos.actions import StackActions
from devstack.chaos.checker import Inspector, Verdict, check, drain
from devstack.chaos.nemesis import Fault, FaultLog, Nemesis, schedule
from devstack.chaos.orders import CASES_BY_NAME, Context, OrderRecord, draw_orders
from devstack.chaos.stack import SKEWED_WORKER, ChaosStack

# Orders placed at once: enough to overlap cases and faults, few enough for a 2-core machine.
PLACERS = 10


@dataclass(frozen=True)
class RunSettings:
    seed: int
    orders: int
    duration: float  # seconds over which orders are placed and faults start
    faults: int
    families: tuple[str, ...]
    drain_seconds: float = 300.0
    cases: tuple[str, ...] | None = None  # None: every case


@dataclass
class RunResult:
    settings: RunSettings
    faults: list[Fault]
    fault_log: list[dict[str, object]]
    verdicts: list[Verdict]
    nemesis_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def violations(self) -> list[Verdict]:
        return [verdict for verdict in self.verdicts if verdict.problems]

    @property
    def unchecked(self) -> list[Verdict]:
        return [verdict for verdict in self.verdicts if verdict.observed is None or verdict.record.error]


def run(
    stack: ChaosStack, settings: RunSettings, out_dir: Path, say: Callable[[str], None] = print
) -> RunResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def now() -> float:
        return time.monotonic() - started

    faults = schedule(settings.seed, settings.duration, settings.faults, settings.families)
    log = FaultLog(out_dir / "faults.jsonl", now)
    nemesis = Nemesis(stack, faults, log)
    if stack.clock_skew_seconds:
        skew = Fault(0.0, "skew", SKEWED_WORKER, settings.duration, stack.clock_skew_seconds)
        log.write(skew, "start", f"its wall clock runs {stack.clock_skew_seconds:+.1f} s off all run")
        faults = [skew, *faults]
    records = [
        OrderRecord(index, case)
        for index, case in enumerate(draw_orders(settings.seed, settings.orders, settings.cases))
    ]
    actions = StackActions(stack)
    context = Context(actions, stack.proxies["webhook"], now)
    say(f"seed {settings.seed}: {len(records)} orders over {settings.duration:.0f} s, {len(faults)} faults")
    nemesis.start()
    try:
        _place_all(context, records, settings, now)
    finally:
        nemesis.join()
        actions.close()
    say(f"placed in {now():.0f} s; every fault has ended; draining (at most {settings.drain_seconds:.0f} s)")
    assert stack.seed is not None
    inspector = Inspector(stack.medusa_url, stack.admin_token, stack.engine_http_url, stack.outbox_dir)
    try:
        observed = drain(inspector, records, settings.drain_seconds, say)
    finally:
        inspector.close()
    result = RunResult(settings, faults, log.entries, check(records, observed), nemesis.failures, now())
    _write_records(out_dir / "orders.jsonl", records)
    return result


def _place_all(
    context: Context, records: list[OrderRecord], settings: RunSettings, now: Callable[[], float]
) -> None:
    spacing = settings.duration / max(1, len(records))
    lock = threading.Lock()

    def place(record: OrderRecord) -> None:
        time.sleep(max(0.0, record.index * spacing - now()))
        rng = random.Random(f"order-{settings.seed}-{record.index}")
        try:
            CASES_BY_NAME[record.case].place(context, record, rng)
        except Exception as error:
            with lock:
                record.error = f"{type(error).__name__}: {error}"[:300]

    with ThreadPoolExecutor(max_workers=PLACERS) as pool:
        list(pool.map(place, records))


def _write_records(path: Path, records: list[OrderRecord]) -> None:
    with path.open("w") as out:
        for record in records:
            out.write(json.dumps(asdict(record)) + "\n")
