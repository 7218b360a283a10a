"""`python -m services.matching.bench`: the solver core on published benchmarks. `gap` solves one
GAP instance and writes its answer as JSON; `gap-suite` runs every GAP instance against the
published optimal or best-known values, beside plain CP-SAT. A developer tool, not the service.
"""

import argparse
import fnmatch
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from services.matching.gap import (
    GAP_CONFIG,
    PLAIN_CPSAT,
    GapAnswerInvalid,
    GapInstance,
    GapResult,
    Sense,
    default_sense,
    read_gap,
    solve_gap,
)
from services.matching.solver import SolverConfig

REPO = Path(__file__).resolve().parents[2]
GAP_DATA = (
    Path(os.environ["TASKFORCE_SHARED_DATA"]) / "gap"
    if os.environ.get("TASKFORCE_SHARED_DATA")
    else REPO.parent / "shared" / "data" / "gap"
)
GAP_REFERENCE = REPO / "benchmarks" / "gap_reference.json"
# The promise for the minimisation sets: within this much of the best-known value.
TARGET_GAP_PCT = 1.0


def gap_command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    instances = read_gap(path)
    if not 1 <= args.problem <= len(instances):
        raise SystemExit(f"{path.name} holds {len(instances)} problem(s); --problem {args.problem}")
    result = solve_gap(
        instances[args.problem - 1], args.sense or default_sense(path.stem), args.time_limit
    )
    answer = {
        "instance": result.instance,
        "objective": result.objective,
        "bound": result.bound,
        "wall_s": round(result.wall_s, 3),
        "assignment": result.assignment,
    }
    text = json.dumps(answer)
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(
            f"{result.instance} ({result.sense}): {result.objective}, bound {result.bound}, "
            f"{result.status}, {result.wall_s:.1f} s -> {args.out}",
            file=sys.stderr,
        )
    else:
        print(text)
    return 0


@dataclass(frozen=True)
class SuiteRow:
    family: str  # gap1-12, gapa-d, type E, large C
    reference: int
    reference_optimal: bool
    ours: GapResult
    plain: GapResult | None

    def gap_pct(self, result: GapResult | None) -> float | None:
        """How far an objective is from the reference, in percent; negative is better."""
        if result is None or result.objective is None:
            return None
        worse = result.objective - self.reference
        if result.sense == "max":
            worse = -worse
        return 100 * worse / abs(self.reference)

    @property
    def met(self) -> bool | None:
        """gap1-12: the reference proved optimal; gapa-d and type E: within the target gap;
        the large type C instances carry no target (None)."""
        if self.family == "gap1-12":
            return self.ours.optimal and self.ours.objective == self.reference
        if self.family == "large C":
            return None
        gap = self.gap_pct(self.ours)
        return gap is not None and gap <= TARGET_GAP_PCT


def suite_files(data_dir: Path) -> list[tuple[str, Path]]:
    """(family, file) in the README's order: gap1-gap12, gapa-gapd, then the Yagiura files
    by size, type E before the large type C."""

    orlib, yagiura = data_dir / "orlib", data_dir / "yagiura"
    numbered = sorted(orlib.glob("gap[0-9]*.txt"), key=lambda p: int(p.stem[3:]))
    files = [("gap1-12", p) for p in numbered]
    files += [("gapa-d", p) for p in sorted(orlib.glob("gap[a-d].txt"))]
    files += [("type E", p) for p in sorted(yagiura.glob("e*.txt"), key=_jobs_agents)]
    files += [("large C", p) for p in sorted(yagiura.glob("c*.txt"), key=_jobs_agents)]
    return files


def _jobs_agents(path: Path) -> tuple[int, int]:
    """From a Yagiura name: e10200 is 10 agents and 200 jobs."""
    for jobs in ("1600", "900", "400", "200", "100"):
        if path.stem.endswith(jobs) and path.stem[1 : -len(jobs)].isdigit():
            return int(jobs), int(path.stem[1 : -len(jobs)])
    return 0, 0


def run_gap_suite(
    data_dir: Path = GAP_DATA,
    time_limit_s: float = 30.0,
    plain: bool = True,
    only: Sequence[str] = (),
    reference_file: Path = GAP_REFERENCE,
    on_row: Callable[[SuiteRow], None] = lambda row: None,
    ours: SolverConfig = GAP_CONFIG,
) -> list[SuiteRow]:
    """Every instance in its file's sense, ours and (with `plain`) plain CP-SAT with the same
    time limit; `only` keeps the instances whose name matches one of its patterns."""
    reference = json.loads(reference_file.read_text())["instances"]
    rows: list[SuiteRow] = []
    for family, path in suite_files(data_dir):
        sense: Sense = default_sense(path.stem)
        for instance in read_gap(path):
            if only and not any(fnmatch.fnmatch(instance.name, pattern) for pattern in only):
                continue
            known = reference[instance.name]
            row = SuiteRow(
                family=family,
                reference=known["value"],
                reference_optimal=known["optimal"],
                ours=_checked(instance, sense, time_limit_s, ours, shortlisted=True),
                plain=(
                    _checked(instance, sense, time_limit_s, PLAIN_CPSAT, shortlisted=False)
                    if plain
                    else None
                ),
            )
            rows.append(row)
            on_row(row)
    return rows


def _checked(
    instance: GapInstance,
    sense: Sense,
    time_limit_s: float,
    config: SolverConfig,
    shortlisted: bool,
) -> GapResult:
    """solve_gap, except that an answer breaking the instance is shown as INVALID rather than
    ending the suite."""
    try:
        return solve_gap(instance, sense, time_limit_s, config, shortlisted)
    except GapAnswerInvalid as error:
        return GapResult(
            instance.name, sense, None, None, False, 0.0, None, f"INVALID: {error}", None
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _objective(result: GapResult | None) -> str:
    if result is None:
        return "-"
    if result.status.startswith("INVALID"):
        return "INVALID"
    return "none" if result.objective is None else str(result.objective)


def suite_table(rows: Sequence[SuiteRow], time_limit_s: float) -> Table:
    table = Table(title=f"GAP: ours and plain CP-SAT, {time_limit_s:g} s each")
    for name in ("instance", "sense", "reference", "ours", "bound", "gap %", "optimal", "wall s"):
        table.add_column(name, justify="left" if name in ("instance", "sense") else "right")
    for name in ("plain", "plain gap %", "plain opt", "plain s"):
        table.add_column(name, justify="right")
    table.add_column("target")
    for row in rows:
        ours, plain = row.ours, row.plain
        table.add_row(
            row.ours.instance,
            ours.sense,
            f"{row.reference}{'' if row.reference_optimal else '*'}",
            _objective(ours),
            "-" if ours.bound is None else str(ours.bound),
            _pct(row.gap_pct(ours)),
            "yes" if ours.optimal else "no",
            f"{ours.wall_s:.1f}",
            _objective(plain),
            _pct(row.gap_pct(plain)),
            "-" if plain is None else ("yes" if plain.optimal else "no"),
            "-" if plain is None else f"{plain.wall_s:.1f}",
            {True: "met", False: "MISSED", None: "-"}[row.met],
        )
    return table


def suite_summary(rows: Sequence[SuiteRow]) -> list[tuple[str, str]]:
    """(measure, value) per family: targets met, proofs, mean gap to the reference, for ours
    and plain CP-SAT."""
    summary: list[tuple[str, str]] = []
    for family in dict.fromkeys(row.family for row in rows):
        group = [row for row in rows if row.family == family]
        target = {
            "gap1-12": "optimal proved",
            "large C": "no target; within 1%",
        }.get(family, f"within {TARGET_GAP_PCT:g}%")
        met = [row for row in group if row.met or (row.met is None and _within(row, row.ours))]
        summary.append((f"{family}: {target}", f"{len(met)} of {len(group)}"))
        for who, pick in (("ours", lambda row: row.ours), ("plain CP-SAT", lambda row: row.plain)):
            results = [pick(row) for row in group if pick(row) is not None]
            if not results:
                continue
            gaps = [row.gap_pct(pick(row)) for row in group if pick(row) is not None]
            found = [gap for gap in gaps if gap is not None]
            mean = f"{sum(found) / len(found):+.2f}%" if found else "-"
            worst = f"{max(found):+.2f}%" if found else "-"
            proved = sum(result.optimal for result in results)
            summary.append(
                (
                    f"{family}: {who}",
                    f"mean gap {mean}, worst {worst}, {proved} proved optimal, "
                    f"{len(results) - len(found)} without an answer",
                )
            )
    return summary


def _within(row: SuiteRow, result: GapResult) -> bool:
    gap = row.gap_pct(result)
    return gap is not None and gap <= TARGET_GAP_PCT


def gap_suite_command(args: argparse.Namespace) -> int:
    # Wide enough for the table when the output is a file rather than a terminal.
    console = Console(width=None if sys.stdout.isatty() else 160)
    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        console.print(f"GAP data not found at {data_dir}: nothing to run")
        return 0

    def progress(row: SuiteRow) -> None:
        plain = "" if row.plain is None else f", plain {_objective(row.plain)}"
        console.print(
            f"{row.ours.instance}: {_objective(row.ours)} (reference {row.reference}"
            f"{plain}), {row.ours.wall_s:.1f} s",
            highlight=False,
        )

    rows = run_gap_suite(
        data_dir,
        args.time_limit,
        plain=not args.no_plain,
        only=args.only,
        on_row=progress,
        ours=replace(GAP_CONFIG, hint=False) if args.no_hint else GAP_CONFIG,
    )
    console.print(suite_table(rows, args.time_limit))
    for measure, value in suite_summary(rows):
        console.print(f"{measure}: {value}", highlight=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.matching.bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    gap = commands.add_parser("gap", help="solve one GAP instance, write the answer as JSON")
    gap.add_argument("file", help="an OR-Library (gap1.txt ...) or Yagiura (e10200.txt) file")
    gap.add_argument("--problem", type=int, default=1, help="which problem of the file, from 1")
    gap.add_argument("--time-limit", type=float, default=30.0, help="seconds (default 30)")
    gap.add_argument(
        "--sense",
        choices=("min", "max"),
        help="default: max for gap1-gap12 (OR-Library's profits), min for every other set",
    )
    gap.add_argument("--out", help="write the JSON here instead of standard output")
    gap.set_defaults(run=gap_command)

    suite = commands.add_parser("gap-suite", help="every GAP instance against published values")
    suite.add_argument("data_dir", nargs="?", default=str(GAP_DATA), help=f"default {GAP_DATA}")
    suite.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance")
    suite.add_argument("--only", action="append", default=[], help="instance name pattern")
    suite.add_argument(
        "--no-plain", action="store_true", help="skip plain CP-SAT (halves the time)"
    )
    suite.add_argument(
        "--no-hint", action="store_true", help="ours without greedy's answer as a hint"
    )
    suite.set_defaults(run=gap_suite_command)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
