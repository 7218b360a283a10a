"""The Generalized Assignment Problem (GAP) on the solver core, as a benchmark: parse OR-Library
and Yagiura files, map an instance onto a `solver.Problem`, solve, and check the answer
independently of the solver. Pure: no I/O beyond reading the instance file.

The mapping: a job is a task, an agent is a worker, one pair per (job, agent); each job's row
places it exactly once, each agent's row holds its resource use within its capacity.
"""

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from services.matching.solver import Problem, Row, Solution, SolverConfig, solve

Sense = Literal["min", "max"]

# Subgradient steps for the capacity prices: the bound settles within about 0.1% by then on
# the largest instances (80 agents x 1600 jobs), in well under a second.
PRICE_ITERATIONS = 200
# Measured (docs/benchmarks.md): from 10 agents and 100 jobs up, offering the solver only each
# job's 3 best agents by priced gain gets closer to the best-known values in 30 s than the
# whole model, which CP-SAT spends most of its time presolving; below that the whole model is
# solved, and usually proved optimal.
SHORTLIST_FROM_AGENTS, SHORTLIST_FROM_JOBS = 10, 100
SHORTLIST_PER_JOB = 3
# CP-SAT's default portfolio (with 2 workers: its LP worker, and LNS and local search on the
# other thread), with greedy's answer as a hint. The subsolvers tuned for proving markets
# optimal (SolverConfig's default) were no better on the D and E sets: on d20100, every full
# worker tried ended within run-to-run noise (6244 to 6251).
GAP_CONFIG = SolverConfig(subsolvers=(), hint=True)
# The baseline the benchmark compares against: CP-SAT's default portfolio on the whole model,
# no warm start, and one model however large (no block-by-block improvement of greedy).
PLAIN_CPSAT = SolverConfig(subsolvers=(), hint=False, max_model_pairs=10**9)


@dataclass(frozen=True)
class GapInstance:
    name: str
    cost: np.ndarray  # (m, n): cost or profit of giving job j to agent i
    resource: np.ndarray  # (m, n): capacity job j uses on agent i
    capacity: np.ndarray  # (m,)

    @property
    def m(self) -> int:
        return int(self.cost.shape[0])

    @property
    def n(self) -> int:
        return int(self.cost.shape[1])


@dataclass(frozen=True)
class GapResult:
    instance: str
    sense: Sense
    # None when no answer placing every job within every capacity was found in time.
    objective: int | None
    # Valid whatever the answer: no answer is better. None only for an invalid solver answer.
    bound: int | None
    optimal: bool
    wall_s: float
    # The 0-based agent of each job, in file order; None with no answer.
    assignment: list[int] | None
    status: str
    greedy_objective: int | None


class GapFileInvalid(ValueError):
    """The numbers in a file do not make up whole GAP instances."""


class GapAnswerInvalid(AssertionError):
    """The solver reported an answer that breaks the instance's rules: a solver bug."""


def _block(tokens: np.ndarray, at: int) -> tuple[int, int, int]:
    """(m, n, tokens used) of the instance starting at `at`."""
    if at + 2 > len(tokens):
        raise GapFileInvalid("file ends inside an instance header")
    m, n = int(tokens[at]), int(tokens[at + 1])
    if m <= 0 or n <= 0:
        raise GapFileInvalid(f"instance header m={m} n={n}")
    return m, n, 2 + 2 * m * n + m


def parse_gap(text: str, stem: str = "gap") -> list[GapInstance]:
    """Every instance in an OR-Library file (starts with the count of problems P) or a
    Yagiura file (one problem, starts directly with m n). Line breaks carry no meaning."""
    try:
        tokens = np.array(text.split(), dtype=np.int64)
    except ValueError as error:
        raise GapFileInvalid(f"not all whitespace-separated integers: {error}") from None
    if len(tokens) < 2:
        raise GapFileInvalid("too few numbers for a GAP instance")
    _, _, size = _block(tokens, 0)
    if size == len(tokens):
        starts = [0]
    else:
        count, at, starts = int(tokens[0]), 1, []
        for _ in range(count):
            starts.append(at)
            at += _block(tokens, at)[2]
        if count <= 0 or at != len(tokens):
            raise GapFileInvalid(
                f"{len(tokens)} numbers are neither one instance nor {count} of them"
            )
    instances = []
    for k, at in enumerate(starts, start=1):
        m, n, _ = _block(tokens, at)
        body = tokens[at + 2 : at + 2 + 2 * m * n + m]
        cost = body[: m * n].reshape(m, n)
        resource = body[m * n : 2 * m * n].reshape(m, n)
        capacity = body[2 * m * n :]
        name = instance_name(stem, k, m, n, single=len(starts) == 1)
        instances.append(GapInstance(name, cost, resource, capacity))
    return instances


def read_gap(path: Path) -> list[GapInstance]:
    return parse_gap(Path(path).read_text(), Path(path).stem)


def instance_name(stem: str, k: int, m: int, n: int, single: bool) -> str:
    """The literature's names: c515-1 is problem 1 of gap1 (5 agents, 15 jobs), a05100 is the
    5x100 problem of gapa; a single-problem file keeps its own name."""
    if re.fullmatch(r"gap\d+", stem):
        return f"c{m}{n}-{k}"
    if re.fullmatch(r"gap[a-d]", stem):
        return f"{stem[-1]}{m:02d}{n}"
    return stem if single else f"{stem}-{k}"


def default_sense(stem: str) -> Sense:
    """OR-Library publishes gap1-gap12 as maximisation; types A-E are costs to minimise."""
    return "max" if re.fullmatch(r"gap\d+", stem) else "min"


def agent_prices(gain: np.ndarray, instance: GapInstance) -> tuple[np.ndarray, float]:
    """Prices on the agents' capacity from the Lagrangian relaxation of the capacity rows,
    improved by subgradient steps; returns (price of each agent, the relaxation's bound).
    Relaxed, each job goes to the agent with the best gain net of price, and the bound
    sum_j max_i (gain[i, j] - price[i]·resource[i, j]) + sum_i price[i]·capacity[i] holds for
    every answer, whatever the prices."""
    resource, capacity = instance.resource, instance.capacity
    jobs = np.arange(instance.n)
    price = np.zeros(instance.m)
    best_price, best_bound = price, np.inf
    step_scale, stalled = 2.0, 0
    for _ in range(PRICE_ITERATIONS):
        net = gain - price[:, None] * resource
        pick = net.argmax(axis=0)
        bound = float(net[pick, jobs].sum() + price @ capacity)
        if bound < best_bound:
            best_price, best_bound, stalled = price, bound, 0
        else:
            stalled += 1
            if stalled == 5:
                step_scale, stalled = step_scale / 2, 0
        load = np.bincount(pick, weights=resource[pick, jobs], minlength=instance.m)
        slope = capacity - load
        # A free agent (price 0, spare capacity) has nothing to lower.
        slope[(price == 0) & (slope > 0)] = 0
        norm = float(slope @ slope)
        if norm == 0:
            break
        # Polyak's step towards a target a fifth below the best bound so far.
        step = step_scale * (bound - (best_bound - 0.2 * abs(best_bound))) / norm
        price = np.maximum(0.0, price - step * slope)
    return best_price, best_bound


def shortlist(
    instance: GapInstance, sense: Sense, per_job: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """The `per_job` agents of each job with the best gain net of capacity prices, as a
    (m, n) mask; for every pair, a bound on answers that use it (-inf where it cannot fit);
    and the relaxation's bound on every answer. Bounds are on the gain (costs negated)."""
    gain = instance.cost if sense == "max" else -instance.cost
    price, bound = agent_prices(gain, instance)
    net = gain - price[:, None] * instance.resource
    fits = instance.resource <= instance.capacity[:, None]
    net = np.where(fits, net, -np.inf)
    order = np.argsort(-net, axis=0, kind="stable")[:per_job]
    keep = np.zeros(net.shape, dtype=bool)
    keep[order, np.arange(instance.n)] = True
    keep &= fits
    # Forcing pair (i, j) into the relaxation costs the job its best net gain less this one's.
    forced = bound - (net.max(axis=0) - net)
    return keep, forced, bound


def to_problem(instance: GapInstance, sense: Sense, keep: np.ndarray | None = None) -> Problem:
    """One pair per kept (job, agent), job by job in agent order; the solver maximises, so
    costs are negated for minimisation."""
    keep = np.ones((instance.m, instance.n), dtype=bool) if keep is None else keep
    jobs, agents = np.nonzero(keep.T)
    gain = instance.cost[agents, jobs]
    value = gain if sense == "max" else -gain
    starts = np.searchsorted(jobs, np.arange(instance.n + 1))
    rows = [
        Row(
            np.arange(starts[j], starts[j + 1]),
            np.ones(starts[j + 1] - starts[j], dtype=np.int64),
            ub=1,
            lb=1,
            why="job placed exactly once",
        )
        for j in range(instance.n)
    ]
    for i in range(instance.m):
        pairs = np.flatnonzero(agents == i)
        rows.append(
            Row(
                pairs,
                instance.resource[i, jobs[pairs]],
                int(instance.capacity[i]),
                why="agent capacity",
            )
        )
    return Problem(jobs, agents, value.astype(np.int64), rows, instance.n, instance.m)


def violations(instance: GapInstance, chosen: np.ndarray) -> list[str]:
    """What is wrong with a (jobs, agents) choice, checked on the instance's own arrays."""
    problems = []
    placed = chosen.sum(axis=1)
    for j in np.flatnonzero(placed != 1).tolist():
        problems.append(f"job {j} placed {int(placed[j])} times")
    load = (instance.resource.T * chosen).sum(axis=0)
    for i in np.flatnonzero(load > instance.capacity).tolist():
        problems.append(f"agent {i} uses {int(load[i])} of {int(instance.capacity[i])}")
    return problems


def _ceil(bound: float) -> float:
    """An upper bound on an integer gain, from one computed in floating point."""
    return float(np.ceil(bound - 1e-6))


def solve_gap(
    instance: GapInstance,
    sense: Sense,
    time_limit_s: float,
    config: SolverConfig = GAP_CONFIG,
    shortlisted: bool = True,
) -> GapResult:
    """Solve one instance and check the answer on the instance's own arrays. `shortlisted`:
    large instances offer the solver only each job's best agents (SHORTLIST_*) and the bound
    still covers the pairs left out; when the shortlist is solved to optimality, a second
    round offers every pair that could still beat that answer, so that the proof holds for
    the whole instance."""
    started = time.monotonic()
    sign = 1 if sense == "max" else -1

    def solve_within(keep: np.ndarray | None) -> tuple[Problem, Solution]:
        problem = to_problem(instance, sense, keep)
        left_s = time_limit_s - (time.monotonic() - started)
        return problem, solve(problem, replace(config, time_limit_s=left_s))

    large = instance.m >= SHORTLIST_FROM_AGENTS and instance.n >= SHORTLIST_FROM_JOBS
    if not (shortlisted and large):
        problem, solution = solve_within(None)
        bound = float(solution.bound)
    else:
        keep, forced, relaxed = shortlist(instance, sense, SHORTLIST_PER_JOB)
        problem, solution = solve_within(keep)
        # The solver's bound covers the shortlist; an answer using a pair left out is bounded
        # by the relaxation with that pair forced, and every answer by the relaxation itself.
        bound = max(solution.bound, _ceil(forced[~keep].max(initial=-np.inf)))
        # Reduced-cost fixing: a pair whose forced bound is no better than the shortlist's
        # optimum cannot improve on it, so only the others need a second look; a shortlist
        # with no answer at all hands over to every pair.
        wider = keep
        if solution.status == "OPTIMAL":
            wider = keep | (np.ceil(forced - 1e-6) > solution.objective)
        elif solution.status == "INFEASIBLE":
            wider = forced > -np.inf
        if (wider != keep).any():
            wider_problem, wider_solution = solve_within(wider)
            bound = max(wider_solution.bound, _ceil(forced[~wider].max(initial=-np.inf)))
            answered = ("OPTIMAL", "FEASIBLE")
            better = (
                solution.status not in answered or wider_solution.objective > solution.objective
            )
            if wider_solution.status in answered and better:
                problem, solution = wider_problem, wider_solution
        bound = min(bound, _ceil(relaxed))
    bound = sign * int(bound)
    chosen = np.zeros((instance.n, instance.m), dtype=bool)
    chosen[problem.pair_task[solution.chosen], problem.pair_worker[solution.chosen]] = True
    greedy = None if solution.greedy_objective is None else sign * solution.greedy_objective
    wall_s = time.monotonic() - started
    wrong = violations(instance, chosen)
    if wrong and solution.status in ("OPTIMAL", "FEASIBLE"):
        raise GapAnswerInvalid(f"{instance.name}: {solution.status} answer breaks it: {wrong[:3]}")
    if wrong:
        return GapResult(
            instance.name, sense, None, bound, False, wall_s, None, solution.status, greedy
        )
    assignment = chosen.argmax(axis=1)
    objective = int(instance.cost[assignment, np.arange(instance.n)].sum())
    if objective != sign * solution.objective:
        raise GapAnswerInvalid(
            f"{instance.name}: objective {objective} recomputed, solver said "
            f"{sign * solution.objective}"
        )
    return GapResult(
        instance=instance.name,
        sense=sense,
        objective=objective,
        bound=bound,
        optimal=objective == bound,
        wall_s=wall_s,
        assignment=assignment.tolist(),
        status=solution.status,
        greedy_objective=greedy,
    )
