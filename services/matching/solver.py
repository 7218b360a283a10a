"""The solver core: choose a subset of candidate pairs (task, worker) that maximises the total
value under linear rows (seats, weekly hours, concurrency, caps, or a GAP's capacities).
Pure: no database, no Kafka, no clock beyond the solver's own time limit.

Strategy: split the pairs into independent components; compute a greedy answer for each (the
fallback); solve a component exactly by min-cost flow when its rows reduce to seat counts,
otherwise by CP-SAT under its share of the time limit; keep the better of greedy and solver.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Components smaller than this are solved together in one model: one model per tiny
# component would spend the time limit on set-up.
BATCH_PAIRS = 20_000


@dataclass(frozen=True)
class Row:
    """sum(coef[i] * x[pairs[i]]) between lb and ub; every row lies within one task or one
    worker, so it never joins two components. `why` is the business rule, for reports."""

    pairs: np.ndarray
    coef: np.ndarray
    ub: int
    lb: int = 0
    why: str = ""


@dataclass
class Problem:
    pair_task: np.ndarray  # task index of each candidate pair
    pair_worker: np.ndarray  # worker index of each candidate pair
    value: np.ndarray  # integer gain of choosing the pair (maximised)
    rows: list[Row]
    n_tasks: int
    n_workers: int

    @property
    def n_pairs(self) -> int:
        return len(self.value)


@dataclass(frozen=True)
class SolverConfig:
    time_limit_s: float = 10.0
    workers: int = 2
    # Measured here: on assignment models the LP-driven subsolvers prove optimality where the
    # default portfolio leaves a gap. Empty means CP-SAT's default portfolio.
    subsolvers: tuple[str, ...] = ("reduced_costs", "max_lp")
    # Greedy as a solution hint: off by default, measured to slow the proofs (docs/matching.md).
    hint: bool = False
    # Try exact min-cost flow on components whose rows are only seat counts.
    use_flow: bool = True
    relative_gap: float = 0.0


@dataclass
class Solution:
    chosen: np.ndarray  # boolean mask over the pairs
    objective: int
    bound: int
    # None when greedy found no answer that satisfies every row (a GAP job left unplaced).
    greedy_objective: int | None
    # OPTIMAL, FEASIBLE, GREEDY (the solver found nothing in time), INFEASIBLE or CANCELLED.
    status: str
    components: int
    methods: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def gap(self) -> float:
        if self.bound == self.objective:
            return 0.0
        return abs(self.bound - self.objective) / max(1, abs(self.bound))


Progress = Callable[[float], None]


def components_of(problem: Problem) -> tuple[int, np.ndarray]:
    """Connected components of the task-worker graph; returns (count, component of each pair)."""
    nodes = problem.n_tasks + problem.n_workers
    if problem.n_pairs == 0:
        return 0, np.zeros(0, dtype=np.int64)
    graph = coo_matrix(
        (
            np.ones(problem.n_pairs, dtype=np.int8),
            (problem.pair_task, problem.n_tasks + problem.pair_worker),
        ),
        shape=(nodes, nodes),
    )
    _, labels = connected_components(graph, directed=False)
    pair_label = labels[problem.pair_task]
    unique, compact = np.unique(pair_label, return_inverse=True)
    return len(unique), compact


def binding_rows(problem: Problem) -> list[Row]:
    """Rows that can bind: a row whose pairs all fit within its upper bound is dropped."""
    return [
        row for row in problem.rows if row.lb > 0 or int(np.clip(row.coef, 0, None).sum()) > row.ub
    ]


def _rows_by_pair(rows: Sequence[Row], n_pairs: int) -> list[list[int]]:
    by_pair: list[list[int]] = [[] for _ in range(n_pairs)]
    for r, row in enumerate(rows):
        for p in row.pairs.tolist():
            by_pair[p].append(r)
    return by_pair


def greedy(problem: Problem, rows: Sequence[Row], pairs: np.ndarray) -> np.ndarray:
    """Most valuable pair first, whenever no row would overflow. Rows with a lower bound (a
    job that must be placed) are served first, most constrained first."""
    chosen = np.zeros(problem.n_pairs, dtype=bool)
    used = [0] * len(rows)
    ubs = [row.ub for row in rows]
    coef_of = [dict(zip(row.pairs.tolist(), row.coef.tolist(), strict=True)) for row in rows]
    by_pair = _rows_by_pair(rows, problem.n_pairs)
    in_scope = set(pairs.tolist())

    def fits(p: int) -> bool:
        return all(used[r] + coef_of[r][p] <= ubs[r] for r in by_pair[p])

    def take(p: int) -> None:
        chosen[p] = True
        for r in by_pair[p]:
            used[r] += coef_of[r][p]

    must = sorted((r for r, row in enumerate(rows) if row.lb > 0), key=lambda r: len(rows[r].pairs))
    for r in must:
        while used[r] < rows[r].lb:
            options = [p for p in rows[r].pairs.tolist() if p in in_scope and not chosen[p]]
            options = [p for p in options if fits(p)]
            if not options:
                break
            take(max(options, key=lambda p: problem.value[p]))
    for p in pairs[np.argsort(-problem.value[pairs], kind="stable")].tolist():
        if problem.value[p] > 0 and not chosen[p] and fits(p):
            take(p)
    return chosen


def _feasible(rows: Sequence[Row], chosen: np.ndarray) -> bool:
    for row in rows:
        total = int((row.coef * chosen[row.pairs]).sum())
        if total > row.ub or total < row.lb:
            return False
    return True


def _flow_caps(problem: Problem, rows: Sequence[Row], pairs: np.ndarray) -> tuple | None:
    """When every binding row is a cardinality cap over all of one task's or one worker's
    pairs, return (task caps, worker caps); otherwise None."""
    pair_set = set(pairs.tolist())
    task_cap: dict[int, int] = {}
    worker_cap: dict[int, int] = {}
    for row in rows:
        if row.lb > 0 or len(set(row.coef.tolist())) != 1:
            return None
        members = row.pairs.tolist()
        tasks = {int(problem.pair_task[p]) for p in members}
        workers = {int(problem.pair_worker[p]) for p in members}
        cap = row.ub // int(row.coef[0])
        if len(tasks) == 1:
            (node,) = tasks
            whole = pairs[problem.pair_task[pairs] == node]
            caps = task_cap
        elif len(workers) == 1:
            (node,) = workers
            whole = pairs[problem.pair_worker[pairs] == node]
            caps = worker_cap
        else:
            return None
        if set(whole.tolist()) != set(members) or not set(members) <= pair_set or node in caps:
            return None
        caps[node] = cap
    return task_cap, worker_cap


def solve_flow(problem: Problem, pairs: np.ndarray, caps: tuple) -> np.ndarray:
    """Exact b-matching as min-cost flow: source → task (seats) → worker → sink (cap)."""
    task_cap, worker_cap = caps
    tasks = np.unique(problem.pair_task[pairs])
    workers = np.unique(problem.pair_worker[pairs])
    t_node = {int(t): 2 + i for i, t in enumerate(tasks)}
    w_node = {int(w): 2 + len(tasks) + i for i, w in enumerate(workers)}
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    supply = 0
    for t, node in t_node.items():
        cap = min(task_cap.get(t, len(pairs)), len(pairs))
        flow.add_arc_with_capacity_and_unit_cost(source, node, cap, 0)
        supply += cap
    for w, node in w_node.items():
        flow.add_arc_with_capacity_and_unit_cost(node, sink, worker_cap.get(w, len(pairs)), 0)
    # Unused seats drain straight to the sink at no gain.
    flow.add_arc_with_capacity_and_unit_cost(source, sink, supply, 0)
    arcs = [
        flow.add_arc_with_capacity_and_unit_cost(
            t_node[int(problem.pair_task[p])],
            w_node[int(problem.pair_worker[p])],
            1,
            -int(problem.value[p]),
        )
        for p in pairs.tolist()
    ]
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("min-cost flow did not reach optimality")
    chosen = np.zeros(problem.n_pairs, dtype=bool)
    for p, arc in zip(pairs.tolist(), arcs, strict=True):
        chosen[p] = flow.flow(arc) > 0
    return chosen


class _Stopper(cp_model.CpSolverSolutionCallback):
    def __init__(self, should_stop: Callable[[], bool]) -> None:
        super().__init__()
        self._should_stop = should_stop

    def on_solution_callback(self) -> None:
        if self._should_stop():
            self.stop_search()


def solve_cpsat(
    problem: Problem,
    rows: Sequence[Row],
    pairs: np.ndarray,
    start: np.ndarray,
    config: SolverConfig,
    time_limit_s: float,
    should_stop: Callable[[], bool],
) -> tuple[np.ndarray, int, str]:
    """The pairs' model in CP-SAT. Returns (chosen mask, proven bound, status name)."""
    model = cp_model.CpModel()
    local = {p: i for i, p in enumerate(pairs.tolist())}
    x = [model.new_bool_var(f"x{p}") for p in pairs.tolist()]
    for row in rows:
        terms = [x[local[p]] for p in row.pairs.tolist()]
        expr = cp_model.LinearExpr.weighted_sum(terms, row.coef.tolist())
        # Each row is one business rule (see Row.why): seats, hours in a week, concurrency, caps.
        if row.lb > 0:
            model.add(expr >= row.lb)
        model.add(expr <= row.ub)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, problem.value[pairs].tolist()))
    if config.hint:
        for var, on in zip(x, start[pairs].tolist(), strict=True):
            model.add_hint(var, on)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.05, time_limit_s)
    params.num_workers = config.workers
    params.relative_gap_limit = config.relative_gap
    if config.subsolvers:
        params.subsolvers.extend(config.subsolvers)
    status = solver.solve(model, _Stopper(should_stop))
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return start, int(problem.value[pairs][problem.value[pairs] > 0].sum()), name
    chosen = start.copy()
    chosen[pairs] = np.array(solver.boolean_values(x), dtype=bool)
    return chosen, round(solver.best_objective_bound), name


def _batches(n_components: int, pair_component: np.ndarray) -> list[np.ndarray]:
    """Pair index sets to solve one at a time: big components alone, small ones together."""
    order = np.argsort(pair_component, kind="stable")
    bounds = np.searchsorted(pair_component[order], np.arange(n_components + 1))
    groups = [order[bounds[c] : bounds[c + 1]] for c in range(n_components)]
    groups.sort(key=len, reverse=True)
    batches: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    size = 0
    for group in groups:
        if len(group) >= BATCH_PAIRS:
            batches.append(group)
            continue
        pending.append(group)
        size += len(group)
        if size >= BATCH_PAIRS:
            batches.append(np.concatenate(pending))
            pending, size = [], 0
    if pending:
        batches.append(np.concatenate(pending))
    return batches


def solve(
    problem: Problem,
    config: SolverConfig = SolverConfig(),
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress = lambda fraction: None,
) -> Solution:
    started = time.monotonic()
    rows = binding_rows(problem)
    n_components, pair_component = components_of(problem)
    all_pairs = np.arange(problem.n_pairs)
    start = greedy(problem, rows, all_pairs)
    greedy_objective: int | None = int(problem.value[start].sum())
    row_component = [int(pair_component[row.pairs[0]]) for row in rows if len(row.pairs)]
    chosen, bound = start.copy(), 0
    methods: dict[str, int] = {}
    statuses: set[str] = set()
    batches = _batches(n_components, pair_component)
    done = 0
    for batch in batches:
        in_batch = np.zeros(n_components, dtype=bool)
        in_batch[np.unique(pair_component[batch])] = True
        batch_rows = [row for row, c in zip(rows, row_component, strict=True) if in_batch[c]]
        remaining = config.time_limit_s - (time.monotonic() - started)
        caps = _flow_caps(problem, batch_rows, batch) if config.use_flow else None
        if should_stop():
            statuses.add("CANCELLED")
            bound += int(np.clip(problem.value[batch], 0, None).sum())
        elif caps is not None:
            chosen[batch] = solve_flow(problem, batch, caps)[batch]
            bound += int(problem.value[batch][chosen[batch]].sum())
            methods["flow"] = methods.get("flow", 0) + 1
            statuses.add("OPTIMAL")
        else:
            share = remaining * len(batch) / max(1, problem.n_pairs - done)
            found, found_bound, status = solve_cpsat(
                problem, batch_rows, batch, start, config, share, should_stop
            )
            solved = status in ("OPTIMAL", "FEASIBLE")
            better = (
                problem.value[batch][found[batch]].sum() >= problem.value[batch][start[batch]].sum()
            )
            if solved and (better or not _feasible(batch_rows, start)):
                chosen[batch] = found[batch]
            bound += found_bound
            methods["cp-sat"] = methods.get("cp-sat", 0) + 1
            statuses.add(status)
        done += len(batch)
        progress(done / max(1, problem.n_pairs))
    objective = int(problem.value[chosen].sum())
    if not _feasible(rows, start):
        greedy_objective = None
    if "CANCELLED" in statuses:
        status = "CANCELLED"
    elif "INFEASIBLE" in statuses:
        status = "INFEASIBLE"
    elif statuses <= {"OPTIMAL"}:
        status = "OPTIMAL"
    elif statuses & {"FEASIBLE", "OPTIMAL"}:
        status = "FEASIBLE"
    else:
        status = "GREEDY"
    return Solution(
        chosen=chosen,
        objective=objective,
        bound=max(bound, objective),
        greedy_objective=greedy_objective,
        status=status,
        components=n_components,
        methods=methods,
        wall_s=time.monotonic() - started,
    )


def is_feasible(problem: Problem, chosen: np.ndarray) -> bool:
    """Every row holds for the chosen pairs (the property tests' oracle)."""
    return _feasible(problem.rows, chosen)
