"""`python -m benchmarks`: run the benchmarks and print one table each, with the machine."""

import argparse
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from benchmarks import events, imports, normalize
from benchmarks.machine import describe

BENCHMARKS: dict[str, tuple[str, Callable[..., list[tuple[str, str]]]]] = {
    "events": ("Event pipeline: catalog API → outbox → embedded broker → matching", events.run),
    "imports": ("Imports (SQLite): taxonomies into profiles, O*NET jobs into catalog", imports.run),
    "normalize": ("Skill normalisation on ESCO alternative labels", normalize.run),
}


def main() -> None:
    parser = argparse.ArgumentParser(description="Taskforce benchmarks")
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks in the event benchmark")
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
        rows = run(count=args.tasks) if name == "events" else run()
        for measure, value in rows:
            table.add_row(measure, value)
        console.print(table)


if __name__ == "__main__":
    main()
