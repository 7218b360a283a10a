"""Candidate generation and the assignment model of one match run: from the index's sparse
candidates (never the dense worker x task matrix) to the solver's pairs and rows, and from the
solver's choice back to proposals. Pure: no database, no Kafka, no clock.
"""

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from services.matching.index import MatchIndex
from services.matching.scoring import TaskRecord, Weights, week_of
from services.matching.solver import Problem, Row, Solution

# Objective coefficients are integers: a score of 1 is worth this much.
SCALE = 10_000
# Hours enter the model in hundredths.
HOURS = 100


@dataclass(frozen=True)
class Fairness:
    # At most this many proposals for one worker in one run (None: no cap).
    max_proposals_per_worker: int | None = None
    # Added to the score of a pair whose worker had no offer within the recent window, so
    # that opportunity spreads beyond the usual names.
    no_recent_opportunity_bonus: float = 0.0


@dataclass(frozen=True)
class Pruning:
    """How a match run's model is kept small: each task's best `per_task` candidates, of those
    each worker's best `per_worker` (plus each task's best `protected_per_task` whatever the
    workers' cut), and, for a task with more than 4 x `shortlist` eligible workers, only the
    `shortlist` likeliest to be best scored in full (`MatchIndex.task_candidates`). What each
    costs against no pruning at all is measured in docs/benchmarks.md."""

    per_task: int = 20
    per_worker: int = 10
    shortlist: int | None = 400
    # A task keeps its best few pairs even where their workers' cut drops them: without it, a
    # task whose only candidates are wanted everywhere loses them (1.7% of the objective on the
    # benchmark market at 20k workers; 0.01% with 3).
    protected_per_task: int = 3


@dataclass
class Market:
    problem: Problem
    tasks: list[TaskRecord]
    workers: np.ndarray  # index position of each model worker
    scores: np.ndarray  # per pair, the explained score (without the fairness bonus)
    stretch: np.ndarray
    learns: np.ndarray
    stats: dict[str, float] = field(default_factory=dict)


def _top(scores: np.ndarray, keep: int) -> np.ndarray:
    if len(scores) <= keep:
        return np.arange(len(scores))
    return np.argpartition(-scores, keep - 1)[:keep]


def _ranks(keys: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each pair's place among the pairs of the same key, best score first (0 for the best)."""
    order = np.lexsort((-scores, keys))
    grouped = keys[order]
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - np.searchsorted(grouped, grouped)
    return rank


def _groups(keys: np.ndarray) -> list[np.ndarray]:
    """Indices of `keys` grouped by value."""
    order = np.argsort(keys, kind="stable")
    cuts = np.flatnonzero(np.diff(keys[order])) + 1
    return np.split(order, cuts) if len(order) else []


def build_market(
    index: MatchIndex,
    tasks: Iterable[TaskRecord],
    weights: Weights = Weights(),
    fairness: Fairness = Fairness(),
    seats_held: Mapping[str, tuple[int, int]] | None = None,
    recently_offered: Iterable[str] = (),
    pruning: Pruning | None = Pruning(),
) -> Market:
    """`seats_held`: task id → (seats held, of which learning seats) by live assignments."""
    started = time.monotonic()
    held = seats_held or {}
    recent = {index.position[w] for w in recently_offered if w in index.position}
    in_model: list[TaskRecord] = []
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("task", "worker", "score", "stretch", "learns")
    }
    found = 0
    for task in tasks:
        taken = held.get(task.id, (0, 0))[0]
        if task.status != "open" or taken >= task.seats:
            continue
        c = (
            index.task_candidates(task, weights, pruning.per_task, pruning.shortlist)
            if pruning
            else index.task_candidates(task, weights)
        )
        found += c.found
        keep = _top(c.scores, pruning.per_task) if pruning else np.arange(len(c.workers))
        if len(keep) == 0:
            continue
        parts["task"].append(np.full(len(keep), len(in_model), dtype=np.int32))
        in_model.append(task)
        parts["worker"].append(c.workers[keep])
        parts["score"].append(c.scores[keep])
        parts["stretch"].append(c.stretch[keep])
        parts["learns"].append(c.learns[keep])
    joined = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    pair_task = joined["task"].astype(np.int32)
    positions = joined["worker"].astype(np.int32)
    scores = joined["score"].astype(float)
    if pruning and len(scores):
        keep_mask = _ranks(positions, scores) < pruning.per_worker
        keep_mask |= _ranks(pair_task, scores) < pruning.protected_per_task
        pair_task, positions, scores = pair_task[keep_mask], positions[keep_mask], scores[keep_mask]
        joined["stretch"], joined["learns"] = (
            joined["stretch"][keep_mask],
            joined["learns"][keep_mask],
        )
    workers, pair_worker = np.unique(positions, return_inverse=True)
    unnoticed = ~np.isin(positions, np.fromiter(recent, dtype=np.int64, count=len(recent)))
    bonus = fairness.no_recent_opportunity_bonus * unnoticed
    value = np.rint((scores + bonus) * SCALE).astype(np.int64)
    stretch = joined["stretch"].astype(bool)
    learns = joined["learns"].astype(bool) | stretch
    rows = _task_rows(in_model, pair_task, stretch, learns, held)
    rows += _worker_rows(index, in_model, pair_task, pair_worker, workers, fairness)
    problem = Problem(
        pair_task, pair_worker.astype(np.int32), value, rows, len(in_model), len(workers)
    )
    stats = {
        "tasks": len(in_model),
        "workers": len(workers),
        "candidates_found": found,
        "candidate_pairs": len(value),
        "candidates_s": round(time.monotonic() - started, 3),
    }
    return Market(problem, in_model, workers, scores, stretch, learns, stats)


def _task_rows(
    tasks: list[TaskRecord],
    pair_task: np.ndarray,
    stretch: np.ndarray,
    learns: np.ndarray,
    held: Mapping[str, tuple[int, int]],
) -> list[Row]:
    rows = []
    for t, pairs in zip(np.unique(pair_task).tolist(), _groups(pair_task), strict=True):
        task = tasks[t]
        taken, taken_learning = held.get(task.id, (0, 0))
        free = task.seats - taken
        free_learning = max(0, task.learning_seats - taken_learning)
        free_regular = max(
            0, min(free, task.seats - task.learning_seats - (taken - taken_learning))
        )
        ones = np.ones(len(pairs), dtype=np.int64)
        others = pairs[~learns[pairs]]
        stretching = pairs[stretch[pairs]]
        # A row over the same pairs as the seats row replaces it when tighter (no learners
        # among the candidates, or only stretch candidates): one row, not two.
        seats = min(free, free_regular) if len(others) == len(pairs) else free
        seats = min(seats, free_learning) if len(stretching) == len(pairs) else seats
        # A task takes no more people than it has seats left.
        rows.append(Row(pairs, ones, seats, why="seats"))
        if 0 < len(others) < len(pairs):
            # Learning seats go only to learners: everyone else competes for the other seats.
            rows.append(Row(others, ones[: len(others)], free_regular, why="regular seats"))
        if 0 < len(stretching) < len(pairs):
            # Someone one level below a must-have may only take a learning seat.
            bound = min(free, free_learning)
            rows.append(Row(stretching, ones[: len(stretching)], bound, why="learning seats"))
    return rows


def _worker_rows(
    index: MatchIndex,
    tasks: list[TaskRecord],
    pair_task: np.ndarray,
    pair_worker: np.ndarray,
    workers: np.ndarray,
    fairness: Fairness,
) -> list[Row]:
    first = np.array([week_of(t.start_date) for t in tasks], dtype=np.int64) - index.week0
    last = np.array([week_of(t.end_date) for t in tasks], dtype=np.int64) - index.week0
    hours = np.array([round(t.hours_per_week * HOURS) for t in tasks], dtype=np.int64)
    cap = fairness.max_proposals_per_worker
    rows: list[Row] = []
    count = np.bincount(pair_worker, minlength=len(workers))
    order = np.argsort(pair_worker, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(count)])
    if cap is not None:
        for w in np.flatnonzero(count > cap).tolist():
            # Fairness: no one is proposed for more than the run's cap.
            pairs = order[bounds[w] : bounds[w + 1]]
            rows.append(Row(pairs, np.ones(len(pairs), dtype=np.int64), cap, why="proposal cap"))
    # A lone candidate pair already fits the worker's hours and slots.
    several = np.flatnonzero(count >= 2)
    if len(several) == 0:
        return rows
    starts, ends, need = first[pair_task], last[pair_task], hours[pair_task]
    positions = workers[several]
    lo = np.minimum.reduceat(starts[order], bounds[several])
    hi = np.maximum.reduceat(ends[order], bounds[several])
    week = np.arange(index.weeks)
    outside = (week[None, :] < lo[:, None]) | (week[None, :] > hi[:, None])
    free_hours = np.floor(index.free_hours[:, positions].T * HOURS + 1e-6).astype(np.int64)
    free_slots = (
        index.max_concurrent[positions, None].astype(np.int64) - index.assigned[:, positions].T
    )
    never = np.iinfo(np.int64).max
    # Everything proposed to a worker at once would still fit every week of their span: no row.
    fits = np.where(outside, never, free_hours).min(axis=1) >= np.add.reduceat(
        need[order], bounds[several]
    )
    fits &= np.where(outside, never, free_slots).min(axis=1) >= count[several]
    crowded = np.flatnonzero(~fits)
    if len(crowded) == 0:
        return rows
    # The crowded workers' pairs, worker by worker (owner: the worker's place in `crowded`).
    sizes = count[several[crowded]]
    offsets = np.repeat(bounds[several[crowded]] - (np.cumsum(sizes) - sizes), sizes)
    pairs = order[offsets + np.arange(sizes.sum())]
    owner = np.repeat(np.arange(len(crowded)), sizes)
    # A worker's set of running tasks changes only in a week where one starts or one has
    # ended: between two such weeks lies an interval with one set of pairs.
    stride = index.weeks + 2
    changes = np.unique(
        np.concatenate([owner * stride + starts[pairs], owner * stride + ends[pairs] + 1])
    )
    change_owner, change_week = changes // stride, changes % stride
    begin = np.searchsorted(changes, owner * stride + starts[pairs])
    covered = np.searchsorted(changes, owner * stride + ends[pairs] + 1) - begin
    interval = np.repeat(begin, covered) + (
        np.arange(covered.sum()) - np.repeat(np.cumsum(covered) - covered, covered)
    )
    member = np.repeat(pairs, covered)
    by_interval = np.lexsort((member, interval))
    interval, member = interval[by_interval], member[by_interval]
    total = np.bincount(interval, weights=need[member], minlength=len(changes)).round()
    running = np.bincount(interval, minlength=len(changes))
    # Each interval's capacity is its tightest week.
    live = np.flatnonzero(running[:-1] > 0)
    length = change_week[live + 1] - change_week[live]
    weeks = np.repeat(change_week[live], length) + (
        np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    )
    who = np.repeat(crowded[change_owner[live]], length)
    cut = np.cumsum(length) - length
    hours_ub = np.minimum.reduceat(free_hours[who, weeks], cut)
    slots_ub = np.minimum.reduceat(free_slots[who, weeks], cut)
    tight_hours = total[live] > hours_ub
    tight_slots = running[live] > slots_ub
    edges = np.searchsorted(interval, np.arange(len(changes) + 1))
    # One row per distinct set of a worker's pairs, bounded by its tightest interval.
    tightest: dict[tuple[int, ...], list[int]] = {}
    for k in np.flatnonzero(tight_hours | tight_slots).tolist():
        i = int(live[k])
        key = (int(change_owner[i]), *member[edges[i] : edges[i + 1]].tolist())
        known = tightest.setdefault(key, [never, never])
        known[0] = min(known[0], int(hours_ub[k]))
        known[1] = min(known[1], int(slots_ub[k]))
    if not tightest:
        return rows
    # Cut from one array per kind: a NumPy array per row would cost more than the rest.
    flat = np.fromiter((p for key in tightest for p in key[1:]), dtype=np.int64)
    coef = need[flat]
    ends_at = np.cumsum([len(key) - 1 for key in tightest]).tolist()
    totals = np.add.reduceat(coef, [0, *ends_at[:-1]]).tolist()
    ones = np.ones(len(flat), dtype=np.int64)
    begin = 0
    for end, total, (hours_bound, slots_bound) in zip(
        ends_at, totals, tightest.values(), strict=True
    ):
        chosen = flat[begin:end]
        if total > hours_bound:
            # A worker's committed and proposed hours fit their capacity in every week.
            rows.append(Row(chosen, coef[begin:end], hours_bound, why="weekly hours"))
        if end - begin > slots_bound:
            # No more concurrent assignments in a week than the worker allows.
            rows.append(Row(chosen, ones[: end - begin], slots_bound, why="concurrency"))
        begin = end
    return rows


@dataclass(frozen=True)
class Proposed:
    task: TaskRecord
    worker_position: int
    score: float
    learning_seat: bool


def proposals(
    market: Market, solution: Solution, seats_held: Mapping[str, tuple[int, int]] | None = None
) -> list[Proposed]:
    """The chosen pairs, each told whether it fills a learning seat: stretch candidates always
    do; other learners fill the regular seats first."""
    held = seats_held or {}
    chosen = np.flatnonzero(solution.chosen)
    out: list[Proposed] = []
    problem = market.problem
    for t in np.unique(problem.pair_task[chosen]).tolist():
        task = market.tasks[t]
        pairs = chosen[problem.pair_task[chosen] == t]
        taken, taken_learning = held.get(task.id, (0, 0))
        regular_left = task.seats - task.learning_seats - (taken - taken_learning)
        regular_left -= int((~market.learns[pairs]).sum())
        for p in sorted(pairs.tolist(), key=lambda p: (market.stretch[p], -market.scores[p])):
            on_learning = bool(market.stretch[p])
            if market.learns[p] and not on_learning:
                on_learning = regular_left <= 0
                regular_left -= not on_learning
            out.append(
                Proposed(
                    task,
                    int(market.workers[problem.pair_worker[p]]),
                    float(market.scores[p]),
                    on_learning,
                )
            )
    return out
