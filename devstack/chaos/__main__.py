"""`python -m devstack.chaos`: a seeded run of real orders under random faults (`make chaos`).

Brings up the production-shaped stack in a temporary directory (kept, with its logs, faults.jsonl and
orders.jsonl, when the run finds a violation), runs, prints the report and exits 1 on any violation or
order it could not place, 0 otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from devstack.chaos.nemesis import FAMILIES, clock_skew
from devstack.chaos.report import print_report, summary_line
from devstack.chaos.run import RunSettings, run
from devstack.chaos.stack import ChaosStack


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument(
        "--duration", type=float, default=120, help="seconds over which orders and faults start"
    )
    parser.add_argument("--faults", type=int, default=12, help="how many faults the schedule draws")
    parser.add_argument(
        "--families",
        default=",".join(FAMILIES),
        help=f"comma-separated fault families out of {','.join(FAMILIES)}",
    )
    parser.add_argument("--drain", type=float, default=300, help="longest wait for the orders to settle (s)")
    parser.add_argument("--in-memory-shop", action="store_true", help="one Medusa process without Redis")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    families = tuple(name.strip() for name in options.families.split(",") if name.strip())
    unknown = set(families) - set(FAMILIES)
    if unknown:
        print(f"unknown fault families: {sorted(unknown)}; known: {', '.join(FAMILIES)}", file=sys.stderr)
        return 2
    settings = RunSettings(
        options.seed, options.orders, options.duration, options.faults, families, options.drain
    )
    work_dir = Path(tempfile.mkdtemp(prefix=f"chaos-{options.seed}-"))
    work_dir.chmod(0o755)  # PostgreSQL runs as its own user when we are root
    skew = clock_skew(options.seed, families)
    stack = ChaosStack(
        work_dir / "run", seed=options.seed, clock_skew_seconds=skew, production=not options.in_memory_shop
    )
    try:
        result = run(stack.start(), settings, work_dir)
    finally:
        stack.stop()
    print_report(result)
    failed = bool(result.violations or result.unchecked or result.nemesis_failures)
    if failed:
        print(f"run directory kept: {work_dir} (faults.jsonl, orders.jsonl, run/logs)")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    print(summary_line(result))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
