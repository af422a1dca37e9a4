"""A short seeded chaos run ends with every order right; each planted bug gives a violation.

The clean run: about 40 orders of every case over two minutes while a dozen faults (kills, pauses, slow
and failing links, cut connections, delayed duplicates, a skewed worker clock) hit the parts. Then three
runs with one bug planted each (tests/chaos/plants), small and aimed at the orders the bug harms, on the
same stack: the planted part is restarted with the bug and restarted without it afterwards. Last, a run
aimed at one race: orders whose process starts while staff's cancel runs, with Medusa's cancel slowed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devstack.chaos.report import print_report
from devstack.chaos.run import RunResult, RunSettings, run
from devstack.chaos.stack import SKEWED_WORKER, ChaosStack

from .conftest import FAMILIES, SEED

pytestmark = [pytest.mark.e2e, pytest.mark.production]

PLANTS_DIR = Path(__file__).resolve().parent / "plants"


def test_a_short_run_under_faults_ends_every_order_right(stack: ChaosStack, work_dir: Path) -> None:
    settings = RunSettings(SEED, orders=40, duration=120, faults=12, families=FAMILIES, drain_seconds=180)

    result = run(stack, settings, work_dir / "short-run")

    print_report(result)
    assert {verdict.record.case for verdict in result.verdicts} >= {"paid", "stock missing", "never paid"}
    assert result.unchecked == [], "every order was placed and its case's steps done"
    assert result.nemesis_failures == []
    assert result.violations == []


@contextmanager
def restarted_with(stack: ChaosStack, part: str, env: dict[str, str]) -> Iterator[None]:
    """The part restarted with `env` added to its settings, and restarted without it afterwards."""
    stack.part_env[part] = env
    stack.restart(part)
    try:
        yield
    finally:
        stack.part_env.pop(part)
        stack.restart(part)


@contextmanager
def planted(stack: ChaosStack, part: str, bug: str) -> Iterator[None]:
    """The part restarted with the bug planted, and restarted without it afterwards."""
    python_path = os.pathsep.join(filter(None, [str(PLANTS_DIR), os.environ.get("PYTHONPATH")]))
    with restarted_with(stack, part, {"PYTHONPATH": python_path, "CHAOS_PLANT": bug}):
        yield


def planted_run(
    stack: ChaosStack, work_dir: Path, name: str, cases: tuple[str, ...], orders: int
) -> RunResult:
    settings = RunSettings(SEED, orders, duration=10, faults=0, families=(), drain_seconds=120, cases=cases)
    result = run(stack, settings, work_dir / name)
    print_report(result)
    assert result.unchecked == []
    return result


def test_a_mail_sent_before_the_status_is_recorded_is_a_violation(stack: ChaosStack, work_dir: Path) -> None:
    with planted(stack, "status_update", "mail_before_status"):
        result = planted_run(stack, work_dir, "mail-before-status", ("stock missing",), orders=2)

    problems = [problem for verdict in result.violations for problem in verdict.problems]
    assert any(problem.startswith("mails") and "order-confirmation" in problem for problem in problems), (
        problems
    )


def test_a_cancel_not_forwarded_is_a_violation(stack: ChaosStack, work_dir: Path) -> None:
    with planted(stack, "order_webhook", "cancel_not_forwarded"):
        result = planted_run(
            stack, work_dir, "cancel-not-forwarded", ("canceled while waiting for payment",), 2
        )

    problems = [problem for verdict in result.violations for problem in verdict.problems]
    assert any("no order-canceled message reached the engine" in problem for problem in problems), problems


def test_a_status_write_that_ignores_replaces_is_a_violation(stack: ChaosStack, work_dir: Path) -> None:
    # Every status report reaches the status function once more, 2 to 6 s later, as a duplicating network
    # would; the copies of one order's three reports arrive in any order, so about two orders in three end
    # on a copy of an earlier status when nothing refuses it (six orders: all six end right 0.14% of runs).
    stack.proxies["status"].inject("replay", seconds=40, delay=4)
    with planted(stack, "status_update", "ignores_replaces"):
        result = planted_run(stack, work_dir, "ignores-replaces", ("paid",), orders=6)

    assert any("workflow status" in problem for verdict in result.violations for problem in verdict.problems)


# Medusa's cancel marks the order canceled this long after it released the stock and the payment (it
# takes milliseconds unslowed): long enough for a worker to read the order in between, shorter than the
# worker's settle interval (WORKER_SETTLE_SECONDS, 3 s by default).
SLOW_CANCEL_MS = 2000
SECOND_LOOK = "checking a failure again after the settle interval"


def second_looks(stack: ChaosStack) -> int:
    logs = [stack.group.log_path(name) for name in ("worker", SKEWED_WORKER)]
    return sum(log.read_text(errors="replace").count(SECOND_LOOK) for log in logs if log.exists())


def test_an_order_read_while_staff_cancel_it_ends_canceled(stack: ChaosStack, work_dir: Path) -> None:
    """Each order's process starts while staff's cancel runs, slowed so that the worker reads the order
    after Medusa released its stock and payment and before it marked it canceled: no order may end
    out_of_stock or payment_failed, held or mailed."""
    slow_cancel = {
        "NODE_OPTIONS": f"--require {PLANTS_DIR / 'slow-cancel.js'}",
        "CHAOS_SLOW_CANCEL_MS": str(SLOW_CANCEL_MS),
    }
    looks_before = second_looks(stack)
    with restarted_with(stack, "medusa", slow_cancel):
        result = planted_run(stack, work_dir, "cancel-race", ("canceled as its process starts",), orders=4)

    assert result.violations == []
    assert second_looks(stack) > looks_before, "no worker read an order half canceled: the race was missed"
