"""The shop and the pipeline on separate CPUs, as in a deployment and in any load test.

In production Medusa and its PostgreSQL (and Redis) run on the shop's own machine, and the engine, the worker
and both functions on Google Cloud: they never take CPU from each other. Here they all share one machine, so
the benchmark splits its CPUs in two sets: the shop's processes on one, the pipeline's parts, the counting
proxy and the load driver (this process, which also sends the ceiling's calls) on the other. The split holds
from the stack's start to its end, so Medusa has the same CPUs in its ceiling and in the burst. Processes a
pinned one starts later (PostgreSQL's backends, Medusa's workers) inherit its CPUs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

# The devstack's processes that are the shop; every other part of the stack is the pipeline's.
SHOP_PARTS: Final = ("postgres", "redis", "medusa", "medusa_worker")


@dataclass(frozen=True)
class CpuSets:
    shop: frozenset[int]
    pipeline: frozenset[int]

    @classmethod
    def split(cls, cpus: Iterable[int]) -> CpuSets | None:
        """The first half of the CPUs (the larger half, if odd) for the shop, the rest for the pipeline;
        None with fewer than two CPUs, where nothing can be kept apart."""
        ordered = sorted(cpus)
        if len(ordered) < 2:
            return None
        half = (len(ordered) + 1) // 2
        return cls(frozenset(ordered[:half]), frozenset(ordered[half:]))

    def for_part(self, part: str) -> frozenset[int]:
        return self.shop if part in SHOP_PARTS else self.pipeline

    def describe(self, parts: Iterable[str]) -> str:
        names = list(parts)
        shop = ", ".join(name for name in names if name in SHOP_PARTS)
        pipeline = ", ".join(name for name in names if name not in SHOP_PARTS)
        return (
            f"shop on CPU {_cpu_list(self.shop)} ({shop}); pipeline on CPU {_cpu_list(self.pipeline)} "
            f"({pipeline}, the load driver)"
        )


def _cpu_list(cpus: Iterable[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))


def pin_tree(pid: int, cpus: frozenset[int], children: Mapping[int, list[int]]) -> None:
    """Every thread of the process and of all its descendants onto these CPUs; the parent first, so a child
    it starts meanwhile inherits them."""
    pin_threads(pid, cpus)
    for child in children.get(pid, []):
        pin_tree(child, cpus, children)


def pin_threads(pid: int, cpus: frozenset[int]) -> None:
    """Every thread of one process onto these CPUs (not its children); threads it starts later inherit
    them from the thread that starts them."""
    for task in _tasks(pid):
        with suppress(ProcessLookupError):  # the thread ended meanwhile
            os.sched_setaffinity(task, cpus)


def _tasks(pid: int) -> list[int]:
    try:
        return [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    except FileNotFoundError:
        return []


def cpu_busy_seconds() -> dict[int, float]:
    """Busy seconds of each CPU so far (every process on it, ours or not), from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    busy: dict[int, float] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        fields = [int(value) for value in values[:8]]
        idle = fields[3] + fields[4]
        busy[int(name[3:])] = (sum(fields) - idle) / ticks
    return busy


def cores_busy(busy_seconds: Mapping[int, float], cpus: Iterable[int], seconds: float) -> float:
    """How many of these CPUs were busy on average over a window (their busy seconds per second)."""
    return sum(busy_seconds.get(cpu, 0.0) for cpu in cpus) / seconds
