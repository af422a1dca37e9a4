"""The nemesis: a fault schedule drawn from the seed, played against the running stack.

Faults (the FAULTS families):
- kill:   SIGKILL a part's whole process group, then start it again after a short down time;
- pause:  SIGSTOP a part's process group, SIGCONT it a few seconds later;
- slow, error, cut, replay: one link's fault proxy is slow, answers 503, cuts connections, or sends
  requests once more later (fault_proxy.py);
- skew:   the second worker's wall clock runs off by seconds for the whole run (chosen from the seed).
Faults of different targets overlap freely; faults of one target wait for each other (a part is not
killed while it is being restarted). Every start and end is logged, with the run's seconds and the wall
clock, one JSON line each, so a failing seed can be replayed and its faults read beside the orders.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from devstack.chaos.stack import SKEWED_WORKER, ChaosStack

FAMILIES: Final = ("kill", "pause", "slow", "error", "cut", "replay", "skew")
# Medusa's restart costs half a minute: it is drawn less often than the quick parts.
PART_WEIGHTS: Final = {
    "worker": 4,
    SKEWED_WORKER: 2,
    "order_webhook": 3,
    "status_update": 3,
    "engine": 3,
    "medusa": 1,
    "medusa_worker": 1,
}
LINKS: Final = {
    "slow": ("medusa",),
    "error": ("medusa", "webhook", "status"),
    "cut": ("medusa", "webhook", "status"),
    "replay": ("status",),
}


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the run started
    family: str
    target: str
    seconds: float  # down time, pause, or how long the link is faulty
    delay: float = 0.0  # slow: per request; replay: how late the copy goes

    def describe(self) -> str:
        extra = f", {self.delay:.1f} s per request" if self.family == "slow" else ""
        extra = f", copies {self.delay:.1f} s late" if self.family == "replay" else extra
        return f"{self.family} {self.target} for {self.seconds:.1f} s{extra}"


def clock_skew(seed: int, families: tuple[str, ...]) -> float:
    """The skewed worker's offset in seconds (0 when skew is not among the faults)."""
    if "skew" not in families:
        return 0.0
    rng = random.Random(f"skew-{seed}")
    return round(rng.choice((-1, 1)) * rng.uniform(5, 30), 1)


def schedule(seed: int, duration: float, count: int, families: tuple[str, ...]) -> list[Fault]:
    """`count` faults at times drawn over the first 85% of `duration`, from the seed alone."""
    rng = random.Random(f"faults-{seed}")
    drawn = [family for family in families if family != "skew"]
    if not drawn:
        return []
    faults = [_draw(rng, rng.uniform(0, duration * 0.85), rng.choice(drawn)) for _ in range(count)]
    return sorted(faults, key=lambda fault: fault.at)


def _draw(rng: random.Random, at: float, family: str) -> Fault:
    at = round(at, 1)
    if family in ("kill", "pause"):
        parts = list(PART_WEIGHTS)
        target = rng.choices(parts, [PART_WEIGHTS[part] for part in parts])[0]
        seconds = rng.uniform(0.5, 4) if family == "kill" else rng.uniform(2, 10)
        return Fault(at, family, target, round(seconds, 1))
    target = rng.choice(LINKS[family])
    delay = rng.uniform(0.5, 3) if family == "slow" else rng.uniform(3, 15) if family == "replay" else 0.0
    return Fault(at, family, target, round(rng.uniform(3, 12), 1), round(delay, 1))


class FaultLog:
    """faults.jsonl: one line per fault start and end (and per failure to bring a part back)."""

    def __init__(self, path: Path, now: Callable[[], float]) -> None:
        self.path = path
        self.now = now
        self.entries: list[dict[str, object]] = []
        self._lock = threading.Lock()

    def write(self, fault: Fault, event: str, detail: str = "") -> None:
        entry = {
            "t": round(self.now(), 1),
            "wall": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "event": event,
            **asdict(fault),
        }
        if detail:
            entry["detail"] = detail
        with self._lock:
            self.entries.append(entry)
            with self.path.open("a") as out:
                out.write(json.dumps(entry) + "\n")


class Nemesis:
    def __init__(self, stack: ChaosStack, faults: list[Fault], log: FaultLog) -> None:
        self.stack = stack
        self.faults = faults
        self.log = log
        self.failures: list[str] = []
        self._target_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for fault in self.faults:
            thread = threading.Thread(target=self._play, args=(fault,), name=f"fault-{fault.at}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _play(self, fault: Fault) -> None:
        time.sleep(max(0.0, fault.at - self.log.now()))
        with self._target_locks[fault.target]:
            self.log.write(fault, "start")
            try:
                self._apply(fault)
            except Exception as error:
                self.failures.append(f"{fault.describe()}: {error}")
                self.log.write(fault, "failed", str(error))
                return
            self.log.write(fault, "end")

    def _apply(self, fault: Fault) -> None:
        if fault.family == "kill":
            self.stack.signal_part(fault.target, signal.SIGKILL)
            time.sleep(fault.seconds)
            self._restart(fault.target)
        elif fault.family == "pause":
            self.stack.signal_part(fault.target, signal.SIGSTOP)
            try:
                time.sleep(fault.seconds)
            finally:
                self.stack.signal_part(fault.target, signal.SIGCONT)
        else:
            proxy = self.stack.proxies[fault.target]
            proxy.inject(fault.family, fault.seconds, fault.delay)  # type: ignore[arg-type]
            time.sleep(fault.seconds + fault.delay)

    def _restart(self, part: str) -> None:
        """Brings a killed part back; a second try when the first start fails (e.g. its port still held)."""
        try:
            self.stack.restart(part)
        except Exception:
            time.sleep(2)
            self.stack.restart(part)
