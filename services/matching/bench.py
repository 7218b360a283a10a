"""`python -m services.matching.bench`: the solver core on published benchmarks. `gap` solves one
GAP instance and writes its answer as JSON; `gap-suite` runs every GAP instance against the
published optimal or best-known values, beside plain CP-SAT; `market` times match runs end to end
on a generated market from 2k to 300k workers. A developer tool, not the service.
"""

import argparse
import fnmatch
import json
import multiprocessing
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from services.matching.candidates import Pruning, build_market
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
from services.matching.index import MatchIndex
from services.matching.market import Marketplace, generate, parse_size
from services.matching.scoring import NO_LOAD, evaluate
from services.matching.solver import SolverConfig, solve

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
    shortlisted: bool = True,
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
                ours=_checked(instance, sense, time_limit_s, ours, shortlisted),
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
    if result.objective is None:
        return "none"
    # solve() keeps greedy's answer when the solver's is worse: say so.
    kept_greedy = not result.optimal and result.objective == result.greedy_objective
    return f"{result.objective}{' (greedy)' if kept_greedy else ''}"


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
        shortlisted=not args.no_shortlist,
    )
    console.print(suite_table(rows, args.time_limit))
    for measure, value in suite_summary(rows):
        console.print(f"{measure}: {value}", highlight=False)
    return 0


# -- match runs on a generated market ----------------------------------------------------------
# End to end (building the index, candidates, solve) per size: the product's targets, and the
# gap each must reach (None: a feasible answer above greedy is the target).
MARKET_TARGETS: dict[str, tuple[float, float | None]] = {
    "2k": (10.0, 0.0),
    "20k": (10.0, 0.005),
    "50k": (15.0, 0.005),
    "100k": (30.0, 0.01),
    "300k": (60.0, None),
}
LATENCY_TARGET_MS = 50.0


@dataclass(frozen=True)
class MarketRun:
    size: str
    budget_s: float
    load_s: float
    candidates_s: float
    solve_s: float
    found: int  # eligible (task, worker) pairs before pruning
    pairs: int  # candidate pairs in the model
    components: int
    greedy: int | None
    objective: int
    bound: int
    gap: float
    status: str
    methods: str
    peak_rss_mib: float  # of the run's own process: generator's records included

    @property
    def wall_s(self) -> float:
        return self.load_s + self.candidates_s + self.solve_s

    @property
    def margin(self) -> float | None:
        """How much the solver's answer beats greedy's, as a share of greedy's."""
        return None if not self.greedy else self.objective / self.greedy - 1

    @property
    def met(self) -> bool:
        target_gap = MARKET_TARGETS.get(self.size, (self.budget_s, None))[1]
        if self.wall_s > self.budget_s or self.status not in ("OPTIMAL", "FEASIBLE"):
            return False
        if target_gap is None:
            return self.objective > (self.greedy or 0)
        return self.gap <= target_gap


def indexed(market: Marketplace) -> MatchIndex:
    """The index a matching service builds at start-up: tasks, then the workers in bulk."""
    index = MatchIndex(market.taxonomy.related)
    for task in market.tasks:
        index.upsert_task(task)
    index.add_workers(market.workers, market.loads)
    return index


def run_market(
    size: str,
    seed: int = 1,
    budget_s: float | None = None,
    config: SolverConfig = SolverConfig(),
    pruning: Pruning | None = Pruning(),
) -> MarketRun:
    """Generate the market (not timed), then time what a match run does: build the index from
    the records, generate candidates, solve within what is left of the end-to-end budget."""
    market = generate(*parse_size(size), seed)
    budget = budget_s or MARKET_TARGETS.get(size, (30.0, None))[0]
    started = time.perf_counter()
    index = indexed(market)
    loaded = time.perf_counter()
    built = build_market(index, market.tasks, pruning=pruning)
    generated = time.perf_counter()
    # What is left of the budget, less a second for the solver's own wrap-up.
    limit = max(1.0, budget - (generated - started) - 1.0)
    solution = solve(built.problem, replace(config, time_limit_s=limit))
    solved = time.perf_counter()
    return MarketRun(
        size=size,
        budget_s=budget,
        load_s=loaded - started,
        candidates_s=generated - loaded,
        solve_s=solved - generated,
        found=int(built.stats["candidates_found"]),
        pairs=built.problem.n_pairs,
        components=solution.components,
        greedy=solution.greedy_objective,
        objective=solution.objective,
        bound=solution.bound,
        gap=solution.gap,
        status=solution.status,
        methods=", ".join(f"{k} {v}" for k, v in sorted(solution.methods.items())),
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def run_market_apart(
    size: str,
    seed: int,
    budget_s: float | None,
    config: SolverConfig = SolverConfig(),
    pruning: Pruning | None = Pruning(),
) -> MarketRun:
    """`run_market` in a fresh process, so that its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(run_market, size, seed, budget_s, config, pruning).result()


def market_table(runs: Sequence[MarketRun], title: str, labels: Sequence[str] = ()) -> Table:
    """One row per run; `labels` name the runs when they are variants of one size."""
    table = Table(title=title)
    columns = (
        "run", "index s", "candidates s", "eligible pairs", "model pairs", "parts", "greedy",
        "objective", "bound", "gap %", "status", "wall s", "budget s", "peak RSS MiB",
        "solver vs greedy %", "target",
    )  # fmt: skip
    for name in columns:
        table.add_column(name, justify="left" if name in ("run", "status") else "right")
    for k, run in enumerate(runs):
        table.add_row(
            labels[k] if labels else run.size,
            f"{run.load_s:.1f}",
            f"{run.candidates_s:.1f}",
            f"{run.found:,}",
            f"{run.pairs:,}",
            f"{run.components:,}",
            "-" if run.greedy is None else f"{run.greedy:,}",
            f"{run.objective:,}",
            f"{run.bound:,}",
            f"{100 * run.gap:.2f}",
            run.status,
            f"{run.wall_s:.1f}",
            f"{run.budget_s:g}",
            f"{run.peak_rss_mib:,.0f}",
            "-" if run.margin is None else f"{100 * run.margin:+.2f}",
            ("met" if run.met else "MISSED") if not labels else "-",
        )
    return table


def latency(size: str = "50k", seed: int = 1, samples: int = 200) -> dict[str, list[float]]:
    """Milliseconds, in process: a task's shortlist over every worker (candidates, sorted, the
    top 20 explained) and a worker's recommendations over every open task (each evaluated,
    sorted)."""
    market = generate(*parse_size(size), seed)
    index = indexed(market)
    rng = np.random.default_rng(seed)
    shortlist, recommend = [], []
    for t in rng.choice(len(market.tasks), samples, replace=False).tolist():
        task = market.tasks[t]
        started = time.perf_counter()
        found = index.task_candidates(task)
        for position in found.workers[np.argsort(-found.scores, kind="stable")[:20]].tolist():
            worker = index.records[position]
            assert worker is not None
            load = index.loads.get(position, NO_LOAD)
            evaluate(task, worker, index.taxonomy, load).explanation()
        shortlist.append(1000 * (time.perf_counter() - started))
    for w in rng.choice(len(market.workers), samples, replace=False).tolist():
        worker = market.workers[w]
        load = market.loads.get(worker.id, NO_LOAD)
        started = time.perf_counter()
        open_tasks = index.open_tasks_for(worker.id)
        verdicts = [evaluate(task, worker, index.taxonomy, load) for task in open_tasks]
        sorted((v for v in verdicts if v.eligible), key=lambda v: -v.score)
        recommend.append(1000 * (time.perf_counter() - started))
    return {"shortlist": shortlist, "recommendations": recommend}


PRUNINGS: dict[str, Pruning | None] = {
    "none": None,
    "20/10": Pruning(shortlist=None, protected_per_task=0),
    "20/10, 3 kept": Pruning(shortlist=None),
    "default": Pruning(),
}


def pruning_cost(size: str, seed: int = 1, budget_s: float = 300.0) -> list[MarketRun]:
    """The same market with each pruning, each given time to prove its optimum."""
    return [run_market_apart(size, seed, budget_s, pruning=p) for p in PRUNINGS.values()]


def hint_effect(size: str, seed: int = 1, budget_s: float | None = None) -> list[MarketRun]:
    """The same market without and with greedy's answer as CP-SAT's hint."""
    return [run_market_apart(size, seed, budget_s, SolverConfig(hint=h)) for h in (False, True)]


def latency_rows(size: str, seed: int = 1) -> list[tuple[str, str]]:
    rows = []
    for name, values in latency(size, seed).items():
        p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
        verdict = "met" if p95 < LATENCY_TARGET_MS else "MISSED"
        rows.append(
            (
                f"{name} ({size}), {len(values)} samples",
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(values):.1f} ms: {verdict}",
            )
        )
    return rows


def market_command(args: argparse.Namespace) -> int:
    console = Console(width=max(Console().width, 170))
    console.print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} before the runs",
        highlight=False,
    )
    runs = []
    for size in [s for s in args.sizes.split(",") if s]:
        runs.append(run_market_apart(size, args.seed, args.time_limit))
        console.print(f"{size}: {runs[-1].status} in {runs[-1].wall_s:.1f} s", highlight=False)
    if runs:
        console.print(market_table(runs, "Match runs on the generated market, end to end"))
    if args.latency != "none":
        for measure, value in latency_rows(args.latency, args.seed):
            console.print(f"{measure}: {value}", highlight=False)
    for size in [s for s in args.pruning.split(",") if s]:
        runs = pruning_cost(size, args.seed)
        labels = [
            f"{name} ({100 * (run.objective / runs[0].objective - 1):+.3f}%)"
            for name, run in zip(PRUNINGS, runs, strict=True)
        ]
        title = (
            f"What pruning costs at {size}: objective against no pruning, each run to its optimum"
        )
        console.print(market_table(runs, title, labels))
    for size in [s for s in args.hint.split(",") if s]:
        title = f"Greedy's answer as CP-SAT's hint at {size}"
        console.print(market_table(hint_effect(size, args.seed), title, ["no hint", "hint"]))
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
    suite.add_argument(
        "--no-shortlist", action="store_true", help="ours on the whole model, every pair offered"
    )
    suite.set_defaults(run=gap_suite_command)

    market = commands.add_parser("market", help="match runs on a generated market, end to end")
    market.add_argument(
        "--sizes",
        default="2k,20k,50k,100k,300k",
        help="workers x tasks: 2k 20k 50k 100k 300k or 500x50",
    )
    market.add_argument(
        "--time-limit", type=float, help="end-to-end seconds per size (default: each size's target)"
    )
    market.add_argument("--seed", type=int, default=1, help="the market's seed (default 1)")
    market.add_argument("--latency", default="50k", help="size for the latency figures, or none")
    market.add_argument("--pruning", default="", help="sizes to measure what pruning costs at")
    market.add_argument("--hint", default="", help="sizes to measure greedy's hint at")
    market.set_defaults(run=market_command)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
