"""`python -m benchmarks`: run every benchmark and print one table per benchmark."""

import argparse
import time

from rich.console import Console
from rich.table import Table

from benchmarks import events
from benchmarks.machine import describe


def main() -> None:
    parser = argparse.ArgumentParser(description="Taskforce benchmarks")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks in the event benchmark")
    args = parser.parse_args()
    console = Console()
    console.print(f"machine: {describe()}")
    console.print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    table = Table(title="Event pipeline: catalog API → outbox → embedded broker → matching")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for measure, value in events.run(count=args.tasks):
        table.add_row(measure, value)
    console.print(table)


if __name__ == "__main__":
    main()
