"""The solver on instances small enough to check by hand, and two properties: every answer keeps
every hard rule (asked of the model's rows and, independently, of the records themselves) and
is never worse than greedy; on tiny problems it is the optimum with or without the dominated
pairs dropped, and its bound holds when a component goes through its LP relaxation."""

import itertools
from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.candidates import Fairness, Pruning, build_market, proposals
from services.matching.index import MatchIndex
from services.matching.market import generate, synthetic_taxonomy
from services.matching.scoring import (
    NO_LOAD,
    Load,
    TaskRecord,
    TaskSkill,
    WorkerRecord,
    evaluate,
    task_weeks,
    week_of,
    weekly_capacity,
)
from services.matching.solver import Problem, Row, SolverConfig, is_feasible, solve

MONDAY = date(2027, 1, 4)
TAXONOMY = synthetic_taxonomy()
QUICK = SolverConfig(time_limit_s=5.0)


def a_problem(pairs: list[tuple[int, int, int]], rows: list[tuple[list[int], list[int], int]]):
    """pairs: (task, worker, value); rows: (pair indices, coefficients, upper bound)."""
    task, worker, value = (np.array(column, dtype=np.int64) for column in zip(*pairs, strict=True))
    return Problem(
        task,
        worker,
        value,
        [Row(np.array(p), np.array(c, dtype=np.int64), ub) for p, c, ub in rows],
        int(task.max()) + 1,
        int(worker.max()) + 1,
    )


def a_task(task_id: str, **overrides) -> TaskRecord:
    fields = {
        "id": task_id,
        "owner_id": "boss",
        "skills": (TaskSkill("python", 3),),
        "hours_per_week": 6.0,
        "start_date": MONDAY,
        "end_date": MONDAY + timedelta(days=13),
    }
    return TaskRecord(**(fields | overrides))


def a_worker(worker_id: str, **overrides) -> WorkerRecord:
    fields = {"id": worker_id, "skills": {"python": 4}, "weekly_hours": 10.0}
    return WorkerRecord(**(fields | overrides))


def run(tasks, workers, loads=None, fairness=Fairness(), config=QUICK):
    index = MatchIndex()
    for task in tasks:
        index.upsert_task(task)
    for worker in workers:
        index.upsert_worker(worker, (loads or {}).get(worker.id, NO_LOAD))
    market = build_market(index, tasks, fairness=fairness)
    solution = solve(market.problem, config)
    taken = {
        (p.task.id, index.worker_ids([p.worker_position])[0]) for p in proposals(market, solution)
    }
    return market, solution, taken, proposals(market, solution), index


def test_cp_sat_beats_greedy_when_the_best_pair_takes_the_only_candidate_of_another_task() -> None:
    # Task A: w1 (10) or w2 (9). Task B: w1 (8) or w3 (1). w1 has 10 h a week, A needs 6 h
    # and B 5 h: one of them.
    problem = a_problem(
        [(0, 0, 10), (0, 1, 9), (1, 0, 8), (1, 2, 1)],
        [([0, 1], [1, 1], 1), ([2, 3], [1, 1], 1), ([0, 2], [600, 500], 1000)],
    )
    solution = solve(problem, QUICK)
    assert solution.greedy_objective == 11  # w1 to A, then only w3 is left for B
    assert solution.objective == 17  # w2 to A, w1 to B
    assert np.flatnonzero(solution.chosen).tolist() == [1, 2]
    assert solution.status == "OPTIMAL"
    assert solution.methods == {"cp-sat": 1}


def test_seat_counts_alone_are_solved_exactly_by_min_cost_flow() -> None:
    # Two one-seat tasks, two workers who take one task each.
    seats = [([0, 1], [1, 1], 1), ([2, 3], [1, 1], 1)]
    caps = [([0, 2], [1, 1], 1), ([1, 3], [1, 1], 1)]
    problem = a_problem([(0, 0, 5), (0, 1, 4), (1, 0, 6), (1, 1, 1)], seats + caps)
    solution = solve(problem, QUICK)
    assert solution.methods == {"flow": 1}
    assert (solution.status, solution.objective, solution.bound) == ("OPTIMAL", 10, 10)
    # A row of hours (unequal coefficients) is not a seat count: CP-SAT then.
    hours = a_problem([(0, 0, 5), (0, 1, 4), (1, 0, 6), (1, 1, 1)], [*seats, ([0, 2], [6, 5], 10)])
    assert "cp-sat" in solve(hours, QUICK).methods


def test_a_worker_is_never_given_more_hours_than_they_have_free_in_a_week() -> None:
    early = [a_task("t1"), a_task("t2")]  # the same two weeks, 6 h each
    later = a_task(
        "t3", start_date=MONDAY + timedelta(weeks=3), end_date=MONDAY + timedelta(weeks=4)
    )
    _, _, taken, _, _ = run([*early, later], [a_worker("ada")])
    assert len(taken & {("t1", "ada"), ("t2", "ada")}) == 1
    assert ("t3", "ada") in taken


def test_committed_hours_count_against_the_week() -> None:
    tasks = [a_task("t1", hours_per_week=3.0), a_task("t2", hours_per_week=3.0)]
    load = Load(hours={week_of(MONDAY): 5.0}, assignments={week_of(MONDAY): 1})
    _, _, taken, _, _ = run(tasks, [a_worker("ada")], {"ada": load})
    assert len(taken) == 1  # 10 h less 5 committed leaves room for one 3 h task, not two


def test_no_more_concurrent_assignments_than_the_worker_allows() -> None:
    tasks = [a_task("t1", hours_per_week=2.0), a_task("t2", hours_per_week=2.0)]
    _, _, taken, _, _ = run(tasks, [a_worker("cy", weekly_hours=20.0, max_concurrent=1)])
    assert len(taken) == 1


def test_learning_seats_go_only_to_learners() -> None:
    task = a_task(
        "t1",
        skills=(TaskSkill("python", 3), TaskSkill("sql", 2, required=False)),
        seats=2,
        learning_seats=1,
    )
    experts = [a_worker(f"expert{n}", skills={"python": 5, "sql": 3}) for n in (1, 2)]
    learner = a_worker("learner", skills={"python": 3}, aspirations={"sql": 3})
    stretch = a_worker("stretch", skills={"python": 2, "sql": 2})
    _, _, taken, chosen, index = run([task], [*experts, learner, stretch])
    assert len(taken) == 2
    assert len(taken & {("t1", "expert1"), ("t1", "expert2")}) == 1  # one regular seat
    on_learning = [index.worker_ids([p.worker_position])[0] for p in chosen if p.learning_seat]
    assert len(on_learning) == 1 and on_learning[0] in ("learner", "stretch")


def test_a_component_too_large_for_one_model_goes_through_its_lp_relaxation() -> None:
    problem = a_problem(
        [(0, 0, 10), (0, 1, 9), (1, 0, 8), (1, 2, 1)],
        [([0, 1], [1, 1], 1), ([2, 3], [1, 1], 1), ([0, 2], [600, 500], 1000)],
    )
    solution = solve(problem, SolverConfig(time_limit_s=5.0, max_model_pairs=2))
    assert solution.methods == {"lp + cp-sat": 1}
    # The LP's optimum is 17.83 (w1 on 5/6 of A), so no answer beats 17: proved optimal.
    assert (solution.objective, solution.bound, solution.status) == (17, 17, "OPTIMAL")
    assert is_feasible(problem, solution.chosen)


# -- properties over tiny hand-rolled problems: the optimum, checked by enumeration -------------
@st.composite
def tiny_problems(draw: st.DrawFn) -> Problem:
    n_tasks, n_workers = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    cells = draw(
        st.lists(
            st.tuples(st.integers(0, n_tasks - 1), st.integers(0, n_workers - 1)),
            min_size=1,
            max_size=10,
            unique=True,
        )
    )
    value = draw(st.lists(st.integers(0, 20), min_size=len(cells), max_size=len(cells)))
    pairs = [(t, w, v) for (t, w), v in zip(cells, value, strict=True)]
    rows = []
    for group, key in ((range(n_tasks), 0), (range(n_workers), 1)):
        for node in group:
            mine = [p for p, cell in enumerate(cells) if cell[key] == node]
            if not mine:
                continue
            # A seat count (or a cap) over all of them, and maybe a row over some of them.
            rows.append((mine, [1] * len(mine), draw(st.integers(0, 2))))
            some = draw(st.lists(st.sampled_from(mine), min_size=1, unique=True))
            coef = draw(st.lists(st.integers(1, 5), min_size=len(some), max_size=len(some)))
            if draw(st.booleans()):
                rows.append((some, coef, draw(st.integers(0, 8))))
    task, worker, gain = zip(*pairs, strict=True)
    return Problem(
        np.array(task),
        np.array(worker),
        np.array(gain, dtype=np.int64),
        [Row(np.array(p), np.array(c, dtype=np.int64), ub) for p, c, ub in rows],
        n_tasks,
        n_workers,
    )


def best_by_enumeration(problem: Problem) -> int:
    best = 0
    for chosen in itertools.product([False, True], repeat=problem.n_pairs):
        mask = np.array(chosen)
        if is_feasible(problem, mask):
            best = max(best, int(problem.value[mask].sum()))
    return best


@settings(max_examples=150, deadline=None)
@given(tiny_problems(), st.sampled_from(["whole", "unreduced", "large", "hint"]))
def test_the_answer_is_the_optimum_however_the_problem_is_cut(problem: Problem, how: str) -> None:
    config = {
        "whole": QUICK,
        "unreduced": SolverConfig(time_limit_s=5.0, reduce=False),
        "large": SolverConfig(time_limit_s=5.0, max_model_pairs=2),
        "hint": SolverConfig(time_limit_s=5.0, hint=True),
    }[how]
    solution = solve(problem, config)
    best = best_by_enumeration(problem)
    assert is_feasible(problem, solution.chosen)
    assert solution.greedy_objective is not None
    assert solution.greedy_objective <= solution.objective <= best <= solution.bound
    if how != "large":
        assert solution.objective == best
        assert solution.status == "OPTIMAL"


# -- properties over small generated markets, checked against the records --------------------
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_workers=st.integers(30, 120),
    n_tasks=st.integers(4, 16),
    cap=st.sampled_from([None, 1, 2]),
    pruning=st.sampled_from([Pruning(), Pruning(per_task=3, per_worker=2, shortlist=2), None]),
    large=st.booleans(),
)
def test_every_proposal_keeps_every_hard_rule_and_beats_greedy(
    seed: int, n_workers: int, n_tasks: int, cap: int | None, pruning: Pruning | None, large: bool
) -> None:
    market = generate(n_workers, n_tasks, seed, TAXONOMY)
    index = MatchIndex(market.taxonomy.related)
    for task in market.tasks:
        index.upsert_task(task)
    for worker in market.workers:
        index.upsert_worker(worker, market.loads.get(worker.id, NO_LOAD))
    built = build_market(
        index, market.tasks, fairness=Fairness(max_proposals_per_worker=cap), pruning=pruning
    )
    config = SolverConfig(time_limit_s=5.0, max_model_pairs=8 if large else 60_000)
    solution = solve(built.problem, config)
    assert is_feasible(built.problem, solution.chosen)
    assert solution.greedy_objective is not None and solution.objective >= solution.greedy_objective

    workers = {w.id: w for w in market.workers}
    chosen = proposals(built, solution)
    by_worker: dict[str, list[TaskRecord]] = {}
    for task in market.tasks:
        mine = [p for p in chosen if p.task.id == task.id]
        learning = [p for p in mine if p.learning_seat]
        assert len(mine) <= task.seats
        assert len(learning) <= task.learning_seats
        for p in mine:
            worker = workers[index.worker_ids([p.worker_position])[0]]
            verdict = evaluate(task, worker, index.taxonomy, market.loads.get(worker.id, NO_LOAD))
            assert verdict.eligible, verdict.excluded_by
            # One level below a must-have: only a learning seat; a learning seat: only a learner.
            if verdict.learning_seat:
                assert p.learning_seat
            if p.learning_seat:
                assert verdict.learning_seat or verdict.learns
            by_worker.setdefault(worker.id, []).append(task)
    for worker_id, tasks in by_worker.items():
        worker, load = workers[worker_id], market.loads.get(worker_id, NO_LOAD)
        if cap is not None:
            assert len(tasks) <= cap
        for week in {w for task in tasks for w in task_weeks(task)}:
            running = [task for task in tasks if week in task_weeks(task)]
            hours = load.hours.get(week, 0.0) + sum(task.hours_per_week for task in running)
            assert hours <= weekly_capacity(worker, week) + 1e-6
            assert load.assignments.get(week, 0) + len(running) <= worker.max_concurrent
