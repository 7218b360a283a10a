"""The Generalized Assignment Problem (GAP) on the solver core, as a benchmark: parse OR-Library
and Yagiura files, map an instance onto a `solver.Problem`, solve, and check the answer
independently of the solver. Pure: no I/O beyond reading the instance file.

The mapping: a job is a task, an agent is a worker, one pair per (job, agent); each job's row
places it exactly once, each agent's row holds its resource use within its capacity.
"""

import math
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from services.matching.solver import Problem, Row, SolverConfig, solve

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
# Measured on the D and E sets (docs/benchmarks.md): CP-SAT's LP worker beside its quick-restart
# search finds better answers in 30 s than either the default portfolio or the LP-heavy
# subsolvers that prove markets optimal; the greedy answer, where it has one, is the hint.
GAP_CONFIG = SolverConfig(subsolvers=("default_lp", "quick_restart"), hint=True)
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


def shortlist(instance: GapInstance, sense: Sense, per_job: int) -> tuple[np.ndarray, float, float]:
    """The `per_job` agents of each job with the best gain net of capacity prices, as a
    (m, n) mask; a bound on answers that use a pair left out; the relaxation's bound."""
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
    left_out = forced[fits & ~keep]
    return keep, float(left_out.max()) if len(left_out) else -np.inf, bound


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


def _ceil(bound: float) -> float | int:
    return bound if math.isinf(bound) else math.ceil(bound - 1e-6)


def solve_gap(
    instance: GapInstance,
    sense: Sense,
    time_limit_s: float,
    config: SolverConfig = GAP_CONFIG,
    shortlisted: bool = True,
) -> GapResult:
    """Solve one instance and check the answer on the instance's own arrays. `shortlisted`:
    large instances offer the solver only each job's best agents (SHORTLIST_*); the bound
    still covers the pairs left out."""
    started = time.monotonic()
    sign = 1 if sense == "max" else -1
    keep, left_out_bound, relaxed_bound = None, -np.inf, np.inf
    if shortlisted and instance.m >= SHORTLIST_FROM_AGENTS and instance.n >= SHORTLIST_FROM_JOBS:
        keep, left_out_bound, relaxed_bound = shortlist(instance, sense, SHORTLIST_PER_JOB)
    problem = to_problem(instance, sense, keep)
    remaining = time_limit_s - (time.monotonic() - started)
    solution = solve(problem, replace(config, time_limit_s=remaining))
    chosen = np.zeros((instance.n, instance.m), dtype=bool)
    chosen[problem.pair_task[solution.chosen], problem.pair_worker[solution.chosen]] = True
    # The solver's bound covers the shortlist only; an answer using a pair left out is bounded
    # by the relaxation with that pair forced, and every answer by the relaxation itself.
    bound = sign * int(min(max(solution.bound, _ceil(left_out_bound)), _ceil(relaxed_bound)))
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
