"""`python -m benchmarks`: run the benchmarks and print one table each, with the machine."""

import argparse
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from benchmarks import events, gap, gateway, imports, market, normalize
from benchmarks.machine import describe

BENCHMARKS: dict[str, tuple[str, Callable[..., list[tuple[str, str]]]]] = {
    "events": ("Event pipeline: catalog API → outbox → embedded broker → matching", events.run),
    "imports": ("Imports (SQLite): taxonomies into profiles, O*NET jobs into catalog", imports.run),
    "normalize": ("Skill normalisation on ESCO alternative labels", normalize.run),
    "gap": ("GAP (OR-Library, Yagiura): solver core against published values", gap.run),
    "market": ("Match runs on the generated market, end to end", market.run),
    "gateway": ("Gateway: one GET through the gateway and straight to catalog (wrk)", gateway.run),
}


def main() -> None:
    parser = argparse.ArgumentParser(description="Taskforce benchmarks")
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks in the event benchmark")
    parser.add_argument(
        "--gap-time-limit",
        type=float,
        default=30.0,
        help="seconds per GAP instance, for ours and plain CP-SAT each (the suite of 108 "
        "instances takes about 40 minutes at 30)",
    )
    parser.add_argument(
        "--market-sizes",
        default=",".join(market.SIZES),
        help="market benchmark sizes (all five: python -m services.matching.bench market)",
    )
    parser.add_argument(
        "--gateway-duration",
        type=int,
        default=15,
        help="seconds of wrk per round and target in the gateway benchmark (needs wrk)",
    )
    args = parser.parse_args()
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    console = Console()
    console.print(f"machine: {describe()}")
    console.print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    for name in args.names or list(BENCHMARKS):
        title, run = BENCHMARKS[name]
        table = Table(title=title)
        table.add_column("measure")
        table.add_column("value", justify="right")
        if name == "events":
            rows = run(count=args.tasks)
        elif name == "gap":
            rows = run(time_limit_s=args.gap_time_limit)
        elif name == "gateway":
            rows = run(duration_s=args.gateway_duration)
        elif name == "market":
            rows = run(sizes=tuple(s for s in args.market_sizes.split(",") if s))
        else:
            rows = run()
        for measure, value in rows:
            table.add_row(measure, value)
        console.print(table)


if __name__ == "__main__":
    main()
