"""What a run shows: case x outcome counts, faults x counts, and each violation with the order's history and
the faults around it."""

from __future__ import annotations

import sys
from collections import Counter

from rich.console import Console
from rich.table import Table

from devstack.chaos.checker import Verdict
from devstack.chaos.run import RunResult

# Faults that started this long before an order was placed, or any time after, are "around" it.
AROUND_SECONDS = 30.0


def print_report(result: RunResult, console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    console.print(outcomes_table(result))
    console.print(faults_table(result))
    for failure in result.nemesis_failures:
        console.print(f"[yellow]fault not applied:[/] {failure}")
    for verdict in result.unchecked:
        console.print(f"[yellow]order {verdict.record.index} ({verdict.record.case}):[/] {verdict.outcome}")
    for verdict in result.violations:
        print_violation(console, verdict, result)
    console.print(summary_line(result))


def summary_line(result: RunResult) -> str:
    settings = result.settings
    checked = len(result.verdicts) - len(result.unchecked)
    return (
        f"chaos seed {settings.seed}: {len(result.verdicts)} orders ({checked} checked), "
        f"{len(result.faults)} faults, {len(result.violations)} violations, {result.seconds:.0f} s"
    )


def outcomes_table(result: RunResult) -> Table:
    table = Table(title="Orders: case x end")
    table.add_column("case")
    table.add_column("end")
    table.add_column("orders", justify="right")
    counts = Counter((verdict.record.case, _end(verdict)) for verdict in result.verdicts)
    for (case, end), count in sorted(counts.items()):
        style = "red" if end.startswith("VIOLATION") else None
        table.add_row(case, end, str(count), style=style)
    return table


def _end(verdict: Verdict) -> str:
    return f"VIOLATION: {verdict.outcome}" if verdict.problems else verdict.outcome


def faults_table(result: RunResult) -> Table:
    table = Table(title="Faults")
    table.add_column("fault")
    table.add_column("target")
    table.add_column("count", justify="right")
    for (family, target), count in sorted(Counter((f.family, f.target) for f in result.faults).items()):
        table.add_row(family, target, str(count))
    return table


def print_violation(console: Console, verdict: Verdict, result: RunResult) -> None:
    record = verdict.record
    console.print(f"\n[red bold]VIOLATION[/] order {record.order_id} ({record.case}, #{record.index}):")
    for problem in verdict.problems:
        console.print(f"  - {problem}")
    console.print(f"  facts: {record.facts}")
    for at, what in record.history:
        console.print(f"  {at:7.1f} s  {what}")
    for entry in result.fault_log:
        at = float(str(entry["t"]))
        if at >= record.placed_at - AROUND_SECONDS and entry["event"] in ("start", "failed"):
            fault = f"{entry['family']} {entry['target']} for {entry['seconds']} s"
            console.print(f"  {at:7.1f} s  fault {fault} ({entry['event']})")
    if verdict.observed is not None:
        for instance in verdict.observed.instances:
            path = [
                event["element_id"] for event in instance.get("history", []) if "ACTIVATED" in event["intent"]
            ]
            console.print(f"  instance {instance['key']} {instance['state']}: {' > '.join(path)}")
