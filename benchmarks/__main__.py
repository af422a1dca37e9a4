"""`make bench`: every pipeline benchmark on one stack, then their tables and the capacity figures.

    .venv/bin/python -m benchmarks [--rounds 5] [--alone 10] [--failures 2] [--burst 100] [--ceiling 60]
                                   [--concurrency 8] [--keep]

Runs `benchmarks.cold_start`, `benchmarks.order_path` and `benchmarks.throughput` in that order against one
stack (`benchmarks.stack`), so Medusa boots once. Each can also run alone with its own stack.
"""

from __future__ import annotations

import argparse
import time

from benchmarks import cold_start, order_path, throughput
from benchmarks.stack import BenchStack, calls_table, console


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="cold starts per function (default 5)")
    order_path.add_arguments(parser)
    throughput.add_arguments(parser)
    parser.add_argument("--keep", action="store_true", help="keep the run directory and its logs")
    args = parser.parse_args()
    began = time.monotonic()
    # Each part's tables are printed as soon as it ends, so a later failure keeps the earlier figures.
    with BenchStack.running(args.keep) as bench:
        console.log("[bold]cold starts[/]")
        console.print(cold_start.report(cold_start.ColdStarts(bench).run(args.rounds)))
        console.log("[bold]one order at a time[/]")
        paths = order_path.OrderPath(bench).run(args.alone, args.failures)
        console.print(calls_table(bench, order_path.phase_sizes(args.alone, args.failures)))
        console.print(order_path.report(paths))
        rates = throughput.Throughput(bench, args.concurrency).run(args.burst, args.ceiling)
        console.print(calls_table(bench, throughput.phase_sizes(args.burst, args.ceiling)))
        console.print(throughput.report(rates))
        console.print(throughput.capacity_table(rates))
    console.log(f"the whole run took {(time.monotonic() - began) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
