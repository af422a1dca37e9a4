"""The benchmarks' arithmetic: a phase's steady rate, calls per order, and what the counting proxy keeps for
Medusa's ceiling to replay, how the shop and the pipeline are kept on separate CPUs, and the function a
cold start runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.cold_start import deployed_source
from benchmarks.counting_proxy import STATUS_WRITE, VIEW, Tally, classify
from benchmarks.cpu_sets import CpuSets, cores_busy, pin_tree
from benchmarks.figures import SteadyRate, floored_percent
from benchmarks.throughput import CallsPerOrder


def test_the_steady_rate_leaves_out_the_ramp_and_the_drain() -> None:
    # 10 calls: a slow first one (the ramp), eight a tenth of a second apart, a slow last one (the drain).
    answered = [1.0, *(2.0 + 0.1 * step for step in range(8)), 9.0]
    rate = SteadyRate.of([(0.0, done) for done in answered], calls_per_order=4)

    # From the second answer to the ninth: seven calls answered in 0.7 s.
    assert rate.calls == 7
    assert rate.seconds == pytest.approx(0.7)
    assert rate.calls_per_s == pytest.approx(10.0)
    assert rate.orders_per_s == pytest.approx(2.5)
    assert rate.whole_seconds == pytest.approx(9.0)
    assert rate.in_flight == pytest.approx(sum(answered) / 9.0)  # every call was sent at 0


def test_a_phase_with_too_few_calls_has_no_steady_part() -> None:
    with pytest.raises(ValueError, match="too few"):
        SteadyRate.of([(0.0, 1.0)], calls_per_order=4)


def test_calls_per_order_are_counted_by_kind_and_by_caller() -> None:
    calls = CallsPerOrder.counted({VIEW: 10, STATUS_WRITE: 30}, orders=10)

    assert calls.total == 4.0
    assert calls.by_caller() == {"order_webhook": 0.0, "worker": 1.0, "status_update": 3.0, "unexpected": 0.0}


def test_a_share_is_floored_so_89_9_percent_does_not_print_as_90() -> None:
    assert floored_percent(0.899) == "89%"


def test_the_proxy_keeps_each_orders_calls_in_order_for_a_replay() -> None:
    tally = Tally(phase="burst")
    for route, body in (("view", b"{}"), ("status", b'{"metadata": {"workflow_status": "completed"}}')):
        path = f"/fulfillment-workflow/orders/order_1/{route}"
        kind, order_id = classify("POST", path)
        tally.record("POST", path, kind, order_id, 200, (1.0, 1.5), body)
    path = "/fulfillment-workflow/orders/order_2/view"
    tally.record("POST", path, VIEW, "order_2", 503, (2.0, 2.1), b"{}")

    assert tally.exchanges["burst"]["order_1"] == [
        (VIEW, "/fulfillment-workflow/orders/order_1/view", "{}"),
        (
            STATUS_WRITE,
            "/fulfillment-workflow/orders/order_1/status",
            '{"metadata": {"workflow_status": "completed"}}',
        ),
    ]
    assert "order_2" not in tally.exchanges["burst"]  # a failed call is not work to replay
    assert tally.moments["burst"] == [(1.0, 1.5), (1.0, 1.5), (2.0, 2.1)]


def test_the_cpus_are_split_between_the_shop_and_the_pipeline() -> None:
    assert CpuSets.split({0, 1}) == CpuSets(frozenset({0}), frozenset({1}))
    assert CpuSets.split({4, 2, 3}) == CpuSets(frozenset({2, 3}), frozenset({4}))
    assert CpuSets.split({0}) is None  # nothing to keep apart


def test_medusa_and_its_stores_go_to_the_shop_and_every_other_part_to_the_pipeline() -> None:
    sets = CpuSets(frozenset({0}), frozenset({1}))

    for part in ("medusa", "medusa_worker", "postgres", "redis"):
        assert sets.for_part(part) == {0}
    for part in ("engine", "worker", "order_webhook", "status_update", "proxy"):
        assert sets.for_part(part) == {1}


def test_cores_busy_are_a_set_s_busy_seconds_per_second() -> None:
    assert cores_busy({0: 3.0, 1: 1.0, 2: 2.0}, {0, 2}, seconds=10.0) == pytest.approx(0.5)


@pytest.fixture
def parent_and_child() -> Iterator[tuple[int, int]]:
    """A process with a thread of its own and a child process: (its pid, the child's pid)."""
    script = (
        "import subprocess, sys, threading; threading.Thread(target=sys.stdin.read, daemon=True).start(); "
        "child = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'], stdin=sys.stdin); "
        "print(child.pid, flush=True); child.wait()"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert parent.stdout is not None
    assert parent.stdin is not None
    child = int(parent.stdout.readline())
    yield parent.pid, child
    parent.stdin.close()
    parent.wait(timeout=30)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to pin onto one")
def test_pinning_reaches_every_thread_of_a_process_and_of_its_children(
    parent_and_child: tuple[int, int],
) -> None:
    parent, child = parent_and_child
    cpu = frozenset({min(os.sched_getaffinity(0))})

    pin_tree(parent, cpu, {parent: [child]})

    threads = [int(task.name) for pid in (parent, child) for task in Path(f"/proc/{pid}/task").iterdir()]
    assert len(threads) >= 3  # the parent's two threads and the child
    assert all(os.sched_getaffinity(thread) == cpu for thread in threads)


def test_a_cold_start_runs_the_function_as_cloud_functions_builds_it(tmp_path: Path) -> None:
    source = deployed_source("status_update", tmp_path)

    modules = sorted(path.relative_to(source) for path in source.rglob("*.py"))
    assert Path("main.py") in modules
    assert Path("fulfillment/settings.py") in modules
    # Every module the zip holds has its bytecode, so a cold start reads none of them from source.
    tag = sys.implementation.cache_tag
    for module in modules:
        assert (source / module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc").is_file(), module
