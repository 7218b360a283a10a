"""The solver core: choose a subset of candidate pairs (task, worker) that maximises the total
value under linear rows (seats, weekly hours, concurrency, caps, or a GAP's capacities).
Pure: no database, no Kafka, no clock beyond the solver's own time limit.

Strategy: compute a greedy answer (the fallback); drop pairs no optimal answer needs (see
`undominated`); split the rest into independent components (pairs that share no binding row);
solve a component exactly by min-cost flow when its rows reduce to seat counts, otherwise by
CP-SAT under its share of the time limit, and a component too large to presolve in time through
its LP relaxation (`solve_large`); keep the better of greedy and solver.
"""

import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, reverse_cuthill_mckee

# Components smaller than this are solved together in one model: one model per tiny
# component would spend the time limit on set-up.
BATCH_PAIRS = 20_000
# Measured on the benchmark market (docs/benchmarks.md): CP-SAT presolves a model of 50k pairs
# in 7 to 12 s and needs as long again to close the gap, most of a 30 s budget, while HiGHS
# solves its LP relaxation in about a second and CP-SAT the model restricted to the pairs the
# LP uses in about two, 0.1% from the optimum. A component larger than this goes that way
# (`solve_large`); the LP's value bounds its optimum.
MAX_MODEL_PAIRS = 20_000
BLOCK_PAIRS = 10_000


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
    # Drop dominated pairs before splitting into components (`undominated`).
    reduce: bool = True
    # Larger components go through their LP relaxation (`solve_large`, MAX_MODEL_PAIRS).
    max_model_pairs: int = MAX_MODEL_PAIRS


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


@dataclass(frozen=True)
class _Flat:
    """Rows as flat arrays, one entry per (row, pair): entry e puts `coef[e]` on `pair[e]` in
    row `row[e]`."""

    row: np.ndarray
    pair: np.ndarray
    coef: np.ndarray
    ub: np.ndarray
    lb: np.ndarray


def _flatten(rows: Sequence[Row]) -> _Flat:
    sizes = np.array([len(row.pairs) for row in rows], dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    return _Flat(
        row=np.repeat(np.arange(len(rows)), sizes),
        pair=np.concatenate([row.pairs for row in rows]).astype(np.int64) if rows else empty,
        coef=np.concatenate([row.coef for row in rows]).astype(np.int64) if rows else empty,
        ub=np.array([row.ub for row in rows], dtype=np.int64),
        lb=np.array([row.lb for row in rows], dtype=np.int64),
    )


def _row_sums(flat: _Flat, weights: np.ndarray) -> np.ndarray:
    return np.bincount(flat.row, weights=weights, minlength=len(flat.ub)).round().astype(np.int64)


def _select(flat: _Flat, rows: np.ndarray, entries: np.ndarray | None = None) -> _Flat:
    """The flat form of the rows in the mask `rows` (numbered anew), optionally only the
    entries in the mask `entries`."""
    keep = rows[flat.row] if entries is None else rows[flat.row] & entries
    renumber = np.cumsum(rows) - 1
    return _Flat(
        renumber[flat.row[keep]], flat.pair[keep], flat.coef[keep], flat.ub[rows], flat.lb[rows]
    )


def _rows_of(flat: _Flat, rows: Sequence[Row], which: np.ndarray) -> list[Row]:
    """Row objects for the flat form `flat` of `rows[which]` (its pairs may be fewer)."""
    ends = np.cumsum(np.bincount(flat.row, minlength=len(which))).tolist()
    begin, out = 0, []
    for r, end in zip(which.tolist(), ends, strict=True):
        row = rows[r]
        if end - begin == len(row.pairs):
            out.append(row)
        else:
            out.append(Row(flat.pair[begin:end], flat.coef[begin:end], row.ub, row.lb, row.why))
        begin = end
    return out


def _binding(flat: _Flat, alive: np.ndarray | None = None) -> np.ndarray:
    """Rows that can bind (a mask): those whose pairs (in play) do not all fit."""
    weights = np.clip(flat.coef, 0, None)
    if alive is not None:
        weights = weights * alive[flat.pair]
    return (flat.lb > 0) | (_row_sums(flat, weights) > flat.ub)


def binding_rows(problem: Problem) -> list[Row]:
    """Rows that can bind: a row whose pairs all fit within its upper bound is dropped."""
    keep = _binding(_flatten(problem.rows))
    return [row for row, binding in zip(problem.rows, keep.tolist(), strict=True) if binding]


def undominated(problem: Problem, rows: Sequence[Row]) -> np.ndarray:
    """The pairs some optimal answer may need (a mask); the others are provably not needed:
    pairs of no gain, pairs that alone overflow a row, and a pair p of which a row of unit
    coefficients and upper bound ub holds at least ub better pairs q (higher value, or equal
    and listed first) that are free: q's worker is bound by no row, and every task row holding
    q holds p. At most ub - 1 of them can be chosen with p, so an optimal answer with p swaps
    it for an unchosen q without overflowing any row or losing value. Repeated until nothing
    changes, since dropped pairs unbind rows and free more workers.

    The swap may empty a row, so rows with a lower bound (a GAP job placed exactly once) switch
    the reduction off."""
    return _undominated(problem, _flatten(rows))


def _undominated(problem: Problem, flat: _Flat) -> np.ndarray:
    alive = problem.value > 0
    n_rows = len(flat.ub)
    if n_rows == 0 or (flat.lb > 0).any():
        return np.ones(problem.n_pairs, dtype=bool)
    sizes = np.bincount(flat.row, minlength=n_rows)
    filled = np.flatnonzero(sizes)
    starts = (np.cumsum(sizes) - sizes)[filled]
    entry_task = problem.pair_task[flat.pair]
    lowest, highest = np.full(n_rows, -1), np.full(n_rows, -2)
    lowest[filled] = np.minimum.reduceat(entry_task, starts)
    highest[filled] = np.maximum.reduceat(entry_task, starts)
    # Rows lie within one task or within one worker; a single pair's row counts as a worker's.
    task_row = (lowest == highest) & (sizes > 1)
    smallest, largest = np.zeros(n_rows, dtype=np.int64), np.zeros(n_rows, dtype=np.int64)
    smallest[filled] = np.minimum.reduceat(flat.coef, starts)
    largest[filled] = np.maximum.reduceat(flat.coef, starts)
    unit = (smallest == 1) & (largest == 1)
    # Each task row's bit in the signature of its pairs: its rank among its task's rows.
    task_rows = np.flatnonzero(task_row)
    by_task = task_rows[np.argsort(lowest[task_rows], kind="stable")]
    first_of_task = np.searchsorted(lowest[by_task], lowest[by_task])
    bit = np.zeros(n_rows, dtype=np.int64)
    bit[by_task] = np.arange(len(by_task)) - first_of_task
    if len(bit) and bit.max() >= 62:
        return alive  # a task with more rows than a signature has bits: keep every pair
    while True:
        live = alive[flat.pair]
        binding = _row_sums(flat, flat.coef * live) > flat.ub
        binds = live & binding[flat.row]
        out = flat.pair[live & (flat.coef > flat.ub[flat.row])]
        bound = np.zeros(problem.n_workers, dtype=bool)
        bound[problem.pair_worker[flat.pair[binds & ~task_row[flat.row]]]] = True
        free = ~bound[problem.pair_worker]
        in_task_rows = binds & task_row[flat.row]
        signature = np.zeros(problem.n_pairs, dtype=np.int64)
        np.bitwise_or.at(signature, flat.pair[in_task_rows], 1 << bit[flat.row[in_task_rows]])
        entries = np.flatnonzero(in_task_rows & unit[flat.row])
        pair = flat.pair[entries]
        order = np.lexsort((pair, -problem.value[pair], flat.row[entries]))
        entries, pair = entries[order], pair[order]
        row = flat.row[entries]
        first = np.searchsorted(row, row)
        sig, is_free = signature[pair], free[pair]
        better = np.zeros(len(entries), dtype=np.int64)
        for kind in np.unique(sig[is_free]).tolist():
            counted = (is_free & (sig == kind)).astype(np.int64)
            before = np.cumsum(counted) - counted
            better += np.where((kind & ~sig) == 0, before - before[first], 0)
        out = np.concatenate([out, pair[better >= flat.ub[row]]])
        dropped = out[alive[out]]
        if len(dropped) == 0:
            return alive
        alive[dropped] = False


def greedy(problem: Problem, rows: Sequence[Row], pairs: np.ndarray) -> np.ndarray:
    """Rows with a lower bound (a job that must be placed) are served first, by regret: the row
    whose best and second-best options that still fit differ most takes its best, so a row about
    to lose its last options goes before one with many to choose from. Options are compared on
    value net of prices on the other rows, from a Lagrangian relaxation of those rows, so a pair
    that uses much of a tight capacity looks as costly as it is. Then the most valuable pairs,
    whenever no row would overflow."""
    n_rows = len(rows)
    entry_row = np.repeat(np.arange(n_rows), [len(row.pairs) for row in rows])
    entry_pair = np.concatenate([row.pairs for row in rows] + [np.zeros(0, dtype=np.int64)])
    entry_coef = np.concatenate([row.coef for row in rows] + [np.zeros(0, dtype=np.int64)])
    ub = np.array([row.ub for row in rows], dtype=np.int64)
    lb = np.array([row.lb for row in rows], dtype=np.int64)
    must = lb > 0
    has_must = bool(must.any())
    chosen = np.zeros(problem.n_pairs, dtype=bool)
    used = np.zeros(n_rows, dtype=np.int64)
    # A pair is open while it is in scope, not chosen and fits every one of its rows.
    open_ = np.zeros(problem.n_pairs, dtype=bool)
    open_[pairs] = True
    in_scope = open_.copy()
    open_[entry_pair[entry_coef > ub[entry_row]]] = False
    rows_of_pair = csr_matrix(
        (np.arange(1, len(entry_row) + 1), (entry_pair, entry_row)),
        shape=(problem.n_pairs, n_rows),
    )
    in_must = must[entry_row]
    must_rows_of_pair = csr_matrix(
        (np.ones(int(in_must.sum()), dtype=np.int8), (entry_pair[in_must], entry_row[in_must])),
        shape=(problem.n_pairs, n_rows),
    )

    def row_prices() -> np.ndarray:
        """Price of each pair: the sum over its rows without a lower bound of the row's
        multiplier times the pair's coefficient. Multipliers come from subgradient steps on the
        relaxation where those rows are dropped into the objective and each row with a lower
        bound takes its single best option."""
        take = in_must & open_[entry_pair]
        if not take.any():
            return np.zeros(problem.n_pairs)
        order = np.argsort(entry_row[take], kind="stable")
        seg_row, seg_pair = entry_row[take][order], entry_pair[take][order]
        starts = np.flatnonzero(np.r_[True, seg_row[1:] != seg_row[:-1]])
        priced = ~in_must
        p_row, p_pair, p_coef = entry_row[priced], entry_pair[priced], entry_coef[priced]
        multiplier = np.zeros(n_rows)
        best, best_bound, step_scale, stalled = multiplier, np.inf, 2.0, 0
        for _ in range(200):
            price = np.bincount(p_pair, multiplier[p_row] * p_coef, minlength=problem.n_pairs)
            net = problem.value[seg_pair] - price[seg_pair]
            top = np.maximum.reduceat(net, starts)
            bound = top.sum() + multiplier @ ub
            if bound < best_bound:
                best, best_bound, stalled = multiplier, bound, 0
            else:
                stalled += 1
                if stalled == 5:
                    step_scale, stalled = step_scale / 2, 0
            is_top = net == np.repeat(top, np.diff(np.r_[starts, len(net)]))
            firsts = np.flatnonzero(is_top)
            segment = np.searchsorted(starts, firsts, side="right") - 1
            picked = np.zeros(problem.n_pairs, dtype=bool)
            picked[seg_pair[firsts[np.unique(segment, return_index=True)[1]]]] = True
            load = np.bincount(p_row, p_coef * picked[p_pair], minlength=n_rows)
            slope = np.where(must, 0, ub - load)
            slope[(multiplier == 0) & (slope > 0)] = 0
            norm = float(slope @ slope)
            if norm == 0:
                break
            step = step_scale * (bound - (best_bound - 0.2 * abs(best_bound))) / norm
            multiplier = np.maximum(0.0, multiplier - step * slope)
        return np.bincount(p_pair, best[p_row] * p_coef, minlength=problem.n_pairs)

    def take(p: int) -> list[int]:
        """Choose p; close the pairs that no longer fit; return the must rows they were in."""
        chosen[p] = True
        open_[p] = False
        touched = must_rows_of_pair[p].indices.tolist() if has_must else []
        for e in rows_of_pair.data[rows_of_pair.indptr[p] : rows_of_pair.indptr[p + 1]] - 1:
            r = int(entry_row[e])
            used[r] += entry_coef[e]
            row = rows[r]
            full = row.pairs[open_[row.pairs] & (used[r] + row.coef > ub[r])]
            if len(full):
                open_[full] = False
                if has_must:
                    touched += must_rows_of_pair[full].indices.tolist()
        return touched

    def entries(p: int) -> dict[int, int]:
        at = rows_of_pair.data[rows_of_pair.indptr[p] : rows_of_pair.indptr[p + 1]] - 1
        return dict(zip(entry_row[at].tolist(), entry_coef[at].tolist(), strict=True))

    # Moves a short row may try in all, so that repairs stay a small part of the greedy's time.
    repair_budget = [200_000]

    def make_room(r: int) -> bool:
        """For a row left short: take one of its options q whose only full row s gets room
        when a pair p chosen in s moves to another option p2 of its own row; the move that
        loses least value. False when there is none."""
        best, best_loss = None, np.inf
        for q in rows[r].pairs[in_scope[rows[r].pairs] & ~chosen[rows[r].pairs]].tolist():
            of_q = entries(q)
            over = [s for s, c in of_q.items() if used[s] + c > ub[s]]
            if len(over) != 1 or any(c > ub[s] for s, c in of_q.items()):
                continue
            s = over[0]
            for p in rows[s].pairs[chosen[rows[s].pairs]].tolist():
                of_p = entries(p)
                if used[s] - of_p[s] + of_q[s] > ub[s]:
                    continue
                homes = must_rows_of_pair[p].indices.tolist()
                if len(homes) != 1 or homes[0] == r:
                    continue
                h, home = homes[0], rows[homes[0]]
                for p2 in home.pairs[in_scope[home.pairs] & ~chosen[home.pairs]].tolist():
                    repair_budget[0] -= 1
                    if p2 == q or repair_budget[0] < 0:
                        continue
                    loss = problem.value[p] - problem.value[p2] - problem.value[q]
                    if loss >= best_loss:
                        continue
                    after = {t: int(used[t]) - c for t, c in of_p.items()}
                    for t, c in of_q.items():
                        after[t] = after.get(t, int(used[t])) + c
                    of_p2 = entries(p2)
                    fits = all(after.get(t, int(used[t])) + c <= ub[t] for t, c in of_p2.items())
                    if fits and after[h] + of_p2[h] >= lb[h]:
                        best, best_loss = (p, p2, q), loss
        if best is None:
            return False
        p, p2, q = best
        chosen[p] = False
        for t, c in entries(p).items():
            used[t] -= c
        take(p2)
        take(q)
        return True

    if has_must:
        desirability = problem.value - row_prices()
        version = np.zeros(n_rows, dtype=np.int64)
        best_option: dict[int, int] = {}
        queue: list[tuple[float, float, int, int]] = []

        def rank(r: int) -> None:
            version[r] += 1
            options = rows[r].pairs[open_[rows[r].pairs]]
            if used[r] >= lb[r] or not len(options):
                return
            scores = desirability[options]
            k = int(np.argmax(scores))
            regret = np.inf
            if len(options) > 1:
                regret = scores[k] - np.partition(scores, len(scores) - 2)[-2]
            best_option[r] = int(options[k])
            heapq.heappush(queue, (-regret, -scores[k], r, int(version[r])))

        for r in np.flatnonzero(must).tolist():
            rank(r)
        while queue:
            _, _, r, seen = heapq.heappop(queue)
            if seen == version[r]:
                for touched in {r, *take(best_option[r])}:
                    rank(touched)
        for r in np.flatnonzero(must & (used < lb)).tolist():
            while used[r] < lb[r] and repair_budget[0] > 0 and make_room(r):
                pass
    for p in pairs[np.argsort(-problem.value[pairs], kind="stable")].tolist():
        if problem.value[p] > 0 and open_[p]:
            take(p)
    return chosen


def _feasible(rows: Sequence[Row], chosen: np.ndarray) -> bool:
    return _holds(_flatten(rows), chosen)


def _holds(flat: _Flat, chosen: np.ndarray) -> bool:
    total = _row_sums(flat, flat.coef * chosen[flat.pair])
    return bool(((total <= flat.ub) & (total >= flat.lb)).all())


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
    """The pairs' model in CP-SAT, built and solved within `time_limit_s`. Returns (chosen
    mask, proven bound, status name)."""
    deadline = time.monotonic() + time_limit_s
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
    params.max_time_in_seconds = max(0.05, deadline - time.monotonic())
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


def _row_components(problem: Problem, alive: np.ndarray, flat: _Flat) -> np.ndarray:
    """Component of each pair in play (-1 for the others): pairs are joined by sharing a row.
    Sharing a worker or a task joins nothing unless a row of theirs can bind."""
    nodes = problem.n_pairs + len(flat.ub)
    graph = coo_matrix(
        (np.ones(len(flat.pair), dtype=np.int8), (flat.pair, problem.n_pairs + flat.row)),
        shape=(nodes, nodes),
    )
    _, labels = connected_components(graph, directed=False)
    component = np.full(problem.n_pairs, -1, dtype=np.int64)
    _, component[alive] = np.unique(labels[: problem.n_pairs][alive], return_inverse=True)
    return component


def _batches(n_components: int, pair_component: np.ndarray) -> list[np.ndarray]:
    """Pair index sets to solve one at a time: big components alone, small ones together."""
    in_play = np.flatnonzero(pair_component >= 0)
    order = in_play[np.argsort(pair_component[in_play], kind="stable")]
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


def _blocks(problem: Problem, pairs: np.ndarray, size: int, offset: int = 0) -> list[np.ndarray]:
    """The pairs cut into blocks of about `size` (the first `offset` smaller), whole tasks each,
    tasks that share workers kept near each other (reverse Cuthill-McKee order)."""
    tasks, task_of = np.unique(problem.pair_task[pairs], return_inverse=True)
    workers, worker_of = np.unique(problem.pair_worker[pairs], return_inverse=True)
    incidence = csr_matrix(
        (np.ones(len(pairs)), (task_of, worker_of)), shape=(len(tasks), len(workers))
    )
    order = reverse_cuthill_mckee((incidence @ incidence.T).tocsr(), symmetric_mode=True)
    rank = np.empty(len(tasks), dtype=np.int64)
    rank[order] = np.arange(len(tasks))
    by_rank = pairs[np.argsort(rank[task_of], kind="stable")]
    task_rank = rank[task_of][np.argsort(rank[task_of], kind="stable")]
    # Cut only where a task ends, so that each task's rows stay inside one block.
    ends = np.flatnonzero(np.diff(task_rank)) + 1
    cuts, last = [], -offset
    for end in ends.tolist():
        if end - last >= size:
            cuts.append(end)
            last = end
    return np.split(by_rank, cuts)


def _seat_bound(problem: Problem, rows: Sequence[Row], pairs: np.ndarray) -> int:
    """A cheap upper bound for the pairs: each task's best pairs, as many as a row of unit
    coefficients over all of the task's pairs allows, every other row relaxed."""
    count = np.bincount(problem.pair_task[pairs], minlength=problem.n_tasks)
    cap = count.copy()
    for row in rows:
        task = problem.pair_task[row.pairs]
        whole = (task == task[0]).all() and len(row.pairs) == count[task[0]]
        if row.lb == 0 and (row.coef == 1).all() and whole:
            cap[task[0]] = min(cap[task[0]], row.ub)
    order = pairs[np.lexsort((-problem.value[pairs], problem.pair_task[pairs]))]
    task = problem.pair_task[order]
    rank = np.arange(len(order)) - np.searchsorted(task, task)
    best = order[(rank < cap[task]) & (problem.value[order] > 0)]
    return int(problem.value[best].sum())


def _restricted(rows: Sequence[Row], keep: np.ndarray) -> list[Row]:
    """The rows over the pairs in the mask `keep` only, those that can still bind."""
    flat = _flatten(rows)
    binding = _binding(flat, keep)
    return _rows_of(_select(flat, binding, keep[flat.pair]), rows, np.flatnonzero(binding))


def solve_large(
    problem: Problem,
    rows: Sequence[Row],
    pairs: np.ndarray,
    start: np.ndarray,
    config: SolverConfig,
    time_limit_s: float,
    should_stop: Callable[[], bool],
) -> tuple[np.ndarray, int, str]:
    """A component too large for one CP-SAT model in time (rows without lower bounds): its LP
    relaxation (HiGHS) bounds the optimum; CP-SAT solves the model restricted to the pairs the
    LP uses and greedy's, from greedy's feasible `start`; time left improves the answer block
    by block. Returns (chosen, a valid upper bound, status)."""
    deadline = time.monotonic() + time_limit_s
    flat = _flatten(rows)
    column = np.full(problem.n_pairs, -1, dtype=np.int64)
    column[pairs] = np.arange(len(pairs))
    matrix = csr_matrix(
        (flat.coef.astype(float), (flat.row, column[flat.pair])), shape=(len(rows), len(pairs))
    )
    relaxed = linprog(
        -problem.value[pairs].astype(float),
        A_ub=matrix,
        b_ub=flat.ub.astype(float),
        bounds=(0, 1),
        method="highs",
        # Without the LP there is neither a bound nor a small model: it gets most of the time.
        options={"time_limit": max(0.5, 0.7 * time_limit_s)},
    )
    chosen = start.copy()
    if relaxed.status == 0:
        # Values are integers: the optimum is at most the LP's value (with HiGHS's tolerance).
        bound = int(np.floor(-relaxed.fun * (1 + 1e-9) + 1e-6))
        keep = np.zeros(problem.n_pairs, dtype=bool)
        keep[pairs[relaxed.x > 1e-6]] = True
        keep[pairs[start[pairs]]] = True
        used = np.flatnonzero(keep)
        hinted = SolverConfig(**{**config.__dict__, "hint": True})
        left = deadline - time.monotonic()
        found, _, status = solve_cpsat(
            problem, _restricted(rows, keep), used, chosen, hinted, left * 0.7, should_stop
        )
        if (
            status in ("OPTIMAL", "FEASIBLE")
            and problem.value[found].sum() >= problem.value[chosen].sum()
        ):
            chosen = found
    else:
        bound = _seat_bound(problem, rows, pairs)
    left = deadline - time.monotonic()
    if left > 1.0 and problem.value[pairs][chosen[pairs]].sum() < bound:
        chosen = improve_by_blocks(problem, rows, pairs, chosen, config, left, should_stop)
    objective = int(problem.value[pairs][chosen[pairs]].sum())
    return chosen, max(bound, objective), "OPTIMAL" if objective >= bound else "FEASIBLE"


def improve_by_blocks(
    problem: Problem,
    rows: Sequence[Row],
    pairs: np.ndarray,
    start: np.ndarray,
    config: SolverConfig,
    time_limit_s: float,
    should_stop: Callable[[], bool],
) -> np.ndarray:
    """A feasible `start` improved one block at a time: each block's model has the block's pairs
    free and the rest fixed, its rows' bounds reduced by what the fixed pairs use, and the
    current answer as its hint. Passes over the blocks, shifted by half a block each time,
    until time is up or two passes in a row gain nothing."""
    deadline = time.monotonic() + time_limit_s
    chosen = start.copy()
    flat = _flatten(rows)
    size = min(BLOCK_PAIRS, config.max_model_pairs)
    hinted = SolverConfig(**{**config.__dict__, "hint": True})
    passes = idle = 0
    while idle < 2 and time.monotonic() < deadline - 0.2 and not should_stop():
        blocks = _blocks(problem, pairs, size, offset=(passes % 2) * size // 2)
        before = int(problem.value[chosen].sum())
        for k, block in enumerate(blocks):
            left = deadline - time.monotonic()
            if left < 0.1 or should_stop():
                break
            in_block = np.zeros(problem.n_pairs, dtype=bool)
            in_block[block] = True
            inside = in_block[flat.pair]
            touched = np.zeros(len(rows), dtype=bool)
            touched[flat.row[inside]] = True
            fixed = _row_sums(flat, np.where(inside, 0, flat.coef * chosen[flat.pair]))
            block_rows = [
                Row(
                    rows[r].pairs[in_block[rows[r].pairs]],
                    rows[r].coef[in_block[rows[r].pairs]],
                    rows[r].ub - int(fixed[r]),
                    max(0, rows[r].lb - int(fixed[r])),
                    rows[r].why,
                )
                for r in np.flatnonzero(touched).tolist()
            ]
            found, _, status = solve_cpsat(
                problem, block_rows, block, chosen, hinted, left / (len(blocks) - k), should_stop
            )
            gain = problem.value[block][found[block]].sum()
            if (
                status in ("OPTIMAL", "FEASIBLE")
                and gain >= problem.value[block][chosen[block]].sum()
            ):
                chosen[block] = found[block]
        passes += 1
        idle = idle + 1 if problem.value[chosen].sum() <= before else 0
    return chosen


def solve(
    problem: Problem,
    config: SolverConfig = SolverConfig(),
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress = lambda fraction: None,
) -> Solution:
    started = time.monotonic()
    every = _flatten(problem.rows)
    binding = _binding(every)
    which = np.flatnonzero(binding)
    rows = [problem.rows[r] for r in which.tolist()]
    flat = _select(every, binding)
    start = greedy(problem, rows, np.arange(problem.n_pairs))
    greedy_objective: int | None = int(problem.value[start].sum())
    # Rows with a lower bound (a GAP job placed exactly once) are solved as one model.
    placing = bool((flat.lb > 0).any())
    alive = _undominated(problem, flat) if config.reduce else np.ones(problem.n_pairs, dtype=bool)
    # The rows over the pairs still in play that can still bind.
    still = _binding(flat, alive)
    live_flat = _select(flat, still, alive[flat.pair])
    live = _rows_of(live_flat, rows, np.flatnonzero(still))
    pair_component = _row_components(problem, alive, live_flat)
    n_components = int(pair_component.max()) + 1 if problem.n_pairs else 0
    row_component = np.full(len(live), -1, dtype=np.int64)
    row_component[live_flat.row] = pair_component[live_flat.pair]
    chosen = np.zeros(problem.n_pairs, dtype=bool)
    bound = 0
    methods: dict[str, int] = {}
    statuses: set[str] = set()
    batches = _batches(n_components, pair_component)
    in_play = int(alive.sum())
    done = 0
    for batch in batches:
        in_batch = np.zeros(max(1, n_components), dtype=bool)
        in_batch[np.unique(pair_component[batch])] = True
        inside = (row_component >= 0) & in_batch[row_component]
        batch_rows = [live[r] for r in np.flatnonzero(inside).tolist()]
        remaining = config.time_limit_s - (time.monotonic() - started)
        share = remaining * len(batch) / max(1, in_play - done)
        caps = _flow_caps(problem, batch_rows, batch) if config.use_flow else None
        # Greedy's answer without the dropped pairs still holds every row (rows have no lower
        # bounds when pairs were dropped): the batch's fallback and hint.
        fallback = start & alive
        if should_stop():
            statuses.add("CANCELLED")
            chosen[batch] = fallback[batch]
            bound += int(np.clip(problem.value[batch], 0, None).sum())
        elif caps is not None:
            chosen[batch] = solve_flow(problem, batch, caps)[batch]
            bound += int(problem.value[batch][chosen[batch]].sum())
            methods["flow"] = methods.get("flow", 0) + 1
            statuses.add("OPTIMAL")
        elif len(batch) > config.max_model_pairs and not placing:
            found, found_bound, status = solve_large(
                problem, batch_rows, batch, fallback, config, share, should_stop
            )
            chosen[batch] = found[batch]
            bound += found_bound
            methods["lp + cp-sat"] = methods.get("lp + cp-sat", 0) + 1
            statuses.add(status)
        else:
            found, found_bound, status = solve_cpsat(
                problem, batch_rows, batch, fallback, config, share, should_stop
            )
            solved = status in ("OPTIMAL", "FEASIBLE")
            better = (
                problem.value[batch][found[batch]].sum()
                >= problem.value[batch][fallback[batch]].sum()
            )
            if solved and (better or not _feasible(batch_rows, fallback)):
                chosen[batch] = found[batch]
            else:
                chosen[batch] = fallback[batch]
            bound += found_bound
            methods["cp-sat"] = methods.get("cp-sat", 0) + 1
            statuses.add(status)
        done += len(batch)
        progress(done / max(1, in_play))
    if not _holds(flat, start):
        greedy_objective = None
    elif problem.value[start].sum() > problem.value[chosen].sum() or not _holds(flat, chosen):
        chosen = start
    objective = int(problem.value[chosen].sum())
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
