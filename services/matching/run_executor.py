"""Executes match runs in the worker: claims a queued run, builds its model from the index
(in a thread), solves it in a separate process (never on the event loop), and writes the
proposals, the statistics and `MatchRunCompleted` in one transaction.

A run a crash interrupted is queued again (at most `MAX_ATTEMPTS` times); a run's results are
written only by the attempt that claimed it last, so nothing is applied twice.
"""

import asyncio
import logging
import multiprocessing
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta
from multiprocessing.connection import Connection
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.contracts.matching import HOLDS_SEAT
from services.kernel.db import Database
from services.kernel.faults import crash_point
from services.kernel.outbox import add_event
from services.kernel.runtime import Runtime
from services.matching.assignments_models import Assignment
from services.matching.candidates import SCALE, Fairness, Market, build_market, proposals
from services.matching.index import MatchIndex
from services.matching.projections import keeper_of
from services.matching.runs import SOURCE, completed_event, now
from services.matching.runs_models import MatchRun, Proposal
from services.matching.scoring import NO_LOAD, TaskRecord, Weights, evaluate
from services.matching.solver import Problem, Solution, SolverConfig, solve

log = logging.getLogger("taskforce.matching.runs")
MAX_ATTEMPTS = 3
# After asking the solver process to stop, wait this long before terminating it.
STOP_GRACE_S = 5.0


class RunCancelled(Exception):
    pass


async def requeue_interrupted(db: Database) -> int:
    """Runs left `running` by a dead worker start again, or fail after MAX_ATTEMPTS."""
    async with db.sessions() as session:
        stuck = (
            await session.scalars(sa.select(MatchRun).where(MatchRun.status == "running"))
        ).all()
        for run in stuck:
            if run.attempts >= MAX_ATTEMPTS:
                run.status, run.phase, run.finished_at = "failed", "failed", now()
                run.error = f"interrupted {run.attempts} times; not retried"
                add_event(session, completed_event(run, 0), SOURCE)
            else:
                run.status, run.phase, run.progress = "queued", "queued", 0.0
        await session.commit()
        return len(stuck)


async def claim_next_run(db: Database) -> tuple[uuid.UUID, int] | None:
    async with db.sessions() as session:
        run_id = await session.scalar(
            sa.select(MatchRun.id)
            .where(MatchRun.status == "queued")
            .order_by(MatchRun.created_at, MatchRun.id)
            .limit(1)
        )
        if run_id is None:
            return None
        claimed = await session.execute(
            sa.update(MatchRun)
            .where(MatchRun.id == run_id, MatchRun.status == "queued")
            .values(
                status="running",
                phase="loading",
                started_at=now(),
                attempts=MatchRun.attempts + 1,
            )
            .returning(MatchRun.attempts)
        )
        attempt = claimed.scalar()
        await session.commit()
        return (run_id, int(attempt)) if attempt is not None else None


async def _update(db: Database, run_id: uuid.UUID, attempt: int, **values: Any) -> bool:
    """Progress of the attempt that owns the run; False when the run was cancelled."""
    async with db.sessions() as session:
        if values:
            await session.execute(
                sa.update(MatchRun)
                .where(
                    MatchRun.id == run_id,
                    MatchRun.attempts == attempt,
                    MatchRun.status == "running",
                )
                .values(**values)
            )
        cancelled = await session.scalar(
            sa.select(MatchRun.cancel_requested).where(MatchRun.id == run_id)
        )
        await session.commit()
        return not cancelled


def scope_tasks(index: MatchIndex, scope: dict[str, Any]) -> list[TaskRecord]:
    if scope.get("task_ids"):
        return [index.tasks[t] for t in scope["task_ids"] if t in index.tasks]
    if scope.get("org_unit"):
        return [t for t in index.tasks.values() if t.org_unit == scope["org_unit"]]
    return list(index.tasks.values())


async def seats_held(session: AsyncSession, task_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    rows = await session.execute(
        sa.select(Assignment.task_id, Assignment.learning_seat, sa.func.count())
        .where(Assignment.status.in_(HOLDS_SEAT))
        .group_by(Assignment.task_id, Assignment.learning_seat)
    )
    wanted = set(task_ids)
    held: dict[str, tuple[int, int]] = {}
    for task_id, learning, count in rows.all():
        if str(task_id) in wanted:
            total, of_learning = held.get(str(task_id), (0, 0))
            held[str(task_id)] = (total + count, of_learning + (count if learning else 0))
    return held


async def recently_offered(session: AsyncSession, days: int) -> set[str]:
    since = now() - timedelta(days=days)
    rows = await session.scalars(
        sa.select(Assignment.worker_id).where(Assignment.created_at >= since).distinct()
    )
    return {str(worker_id) for worker_id in rows}


def solve_in_child(problem: Problem, config: SolverConfig, conn: Connection) -> None:
    """The solver process: reports progress, stops when told to, sends the solution."""

    stopped = False

    def should_stop() -> bool:
        nonlocal stopped
        stopped = stopped or (conn.poll() and conn.recv() == "stop")
        return stopped

    solution = solve(problem, config, should_stop, lambda f: conn.send(("progress", f)))
    conn.send(("done", solution))
    conn.close()


async def solve_off_loop(
    problem: Problem, config: SolverConfig, db: Database, run_id: uuid.UUID, attempt: int
) -> Solution:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=solve_in_child, args=(problem, config, theirs), daemon=True)
    process.start()
    theirs.close()
    stop_sent: float | None = None
    last_look = 0.0
    try:
        while True:
            while ours.poll():
                kind, payload = ours.recv()
                if kind == "done":
                    if stop_sent is not None:
                        raise RunCancelled()
                    return payload
                fraction = 0.15 + 0.8 * float(payload)
                if not await _update(db, run_id, attempt, progress=fraction):
                    stop_sent = stop_sent or _ask_to_stop(ours)
            if not process.is_alive() and not ours.poll():
                raise RuntimeError(f"the solver process ended with exit code {process.exitcode}")
            if time.monotonic() - last_look > 1.0:
                last_look = time.monotonic()
                if not await _update(db, run_id, attempt):
                    stop_sent = stop_sent or _ask_to_stop(ours)
            if stop_sent is not None and time.monotonic() - stop_sent > STOP_GRACE_S:
                raise RunCancelled()
            await asyncio.sleep(0.1)
    finally:
        if process.is_alive():
            process.terminate()
        await asyncio.to_thread(process.join, 5)
        ours.close()


def _ask_to_stop(conn: Connection) -> float:
    conn.send("stop")
    return time.monotonic()


class RunMetrics:
    """What an operator alerts on: the proven gap of the last solved run (the solver stopped
    at its time limit far from optimal) and how long runs take."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.gap = Gauge(
            "match_run_gap_ratio",
            "Relative gap between the last solved run's objective and its proven bound",
            registry=registry,
        )
        self.solve_seconds = Histogram(
            "match_run_solve_seconds",
            "Solver wall time per run",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
            registry=registry,
        )

    @classmethod
    def of(cls, rt: Runtime) -> "RunMetrics":
        found = rt.state.get("run_metrics")
        if not isinstance(found, cls):
            found = rt.state["run_metrics"] = cls(rt.registry)
        return found

    def observe(self, solution: Solution) -> None:
        self.gap.set(solution.gap)
        self.solve_seconds.observe(solution.wall_s)


def _statistics(market: Market, solution: Solution, started: float) -> dict[str, Any]:
    greedy = solution.greedy_objective
    return market.stats | {
        "components": solution.components,
        "greedy_objective": None if greedy is None else round(greedy / SCALE, 4),
        "objective": round(solution.objective / SCALE, 4),
        "best_bound": round(solution.bound / SCALE, 4),
        "gap": round(solution.gap, 6),
        "solver_status": solution.status,
        "methods": solution.methods,
        "solve_s": round(solution.wall_s, 3),
        "wall_s": round(time.monotonic() - started, 3),
    }


async def _finish(
    db: Database, run_id: uuid.UUID, attempt: int, status: str, rows: list[Proposal], **values: Any
) -> None:
    async with db.sessions() as session:
        run = await session.get(MatchRun, run_id, with_for_update=True)
        if run is None or run.attempts != attempt or run.status != "running":
            return  # another attempt owns the run now, or it was settled
        if run.cancel_requested and status == "succeeded":
            status, rows = "cancelled", []
        for key, value in values.items():
            setattr(run, key, value)
        run.status, run.phase, run.finished_at = status, status, now()
        run.progress = 1.0 if status == "succeeded" else run.progress
        session.add_all(rows)
        add_event(session, completed_event(run, len(rows)), SOURCE)
        await session.commit()


async def execute_run(rt: Runtime, run_id: uuid.UUID, attempt: int) -> None:
    db, started = rt.db, time.monotonic()
    interval = float(getattr(rt.settings, "index_refresh_interval_s", 0.2))
    keeper = keeper_of(rt.state, db, interval)
    async with db.sessions() as session:
        run = await session.get(MatchRun, run_id)
        assert run is not None
        scope, weights = run.scope, Weights(**run.weights)
        fairness_in, time_limit_s = dict(run.fairness), run.time_limit_s
    index = await keeper.current()
    recent_days = int(fairness_in.pop("recent_days", 30))
    fairness = Fairness(**fairness_in)
    async with keeper.lock:
        tasks = scope_tasks(index, scope)
        async with db.sessions() as session:
            held = await seats_held(session, (t.id for t in tasks))
            recent = await recently_offered(session, recent_days)
        await _update(db, run_id, attempt, phase="candidates", progress=0.05)
        # The index must not move while the model is built from it.
        market = await asyncio.to_thread(
            build_market, index, tasks, weights, fairness, held, recent
        )
    await _update(db, run_id, attempt, phase="solving", progress=0.15, stats=market.stats)
    remaining = max(1.0, time_limit_s - (time.monotonic() - started))
    try:
        solution = await solve_off_loop(
            market.problem, SolverConfig(time_limit_s=remaining), db, run_id, attempt
        )
    except RunCancelled:
        await _finish(db, run_id, attempt, "cancelled", [], stats=market.stats)
        return
    RunMetrics.of(rt).observe(solution)
    # A crash here loses the solve; the run is queued again when the worker restarts.
    crash_point("match_run.after_solve", rt.settings.crash_at)
    rows = []
    async with keeper.lock:
        for chosen in proposals(market, solution, held):
            worker = index.records[chosen.worker_position]
            if worker is None:
                continue  # erased meanwhile
            load = index.loads.get(chosen.worker_position, NO_LOAD)
            verdict = evaluate(chosen.task, worker, index.taxonomy, load, weights)
            explanation = verdict.explanation() | {"learning_seat": chosen.learning_seat}
            rows.append(
                Proposal(
                    id=uuid.uuid4(),
                    run_id=run_id,
                    task_id=uuid.UUID(chosen.task.id),
                    worker_id=uuid.UUID(worker.id),
                    score=round(chosen.score, 4),
                    learning_seat=chosen.learning_seat,
                    explanation=explanation,
                )
            )
    await _finish(
        db, run_id, attempt, "succeeded", rows, stats=_statistics(market, solution, started)
    )
    log.info("match run %s: %d proposals (%s)", run_id, len(rows), solution.status)


async def run_match_runs(rt: Runtime) -> None:
    """The worker's loop: requeue what a crash interrupted, then run queued runs one by one."""
    poll_s = float(getattr(rt.settings, "match_run_poll_interval_s", 0.5))
    interval = float(getattr(rt.settings, "index_refresh_interval_s", 0.2))
    started = False
    while True:
        try:
            if not started:
                await requeue_interrupted(rt.db)
                # Build the index from the tables now, not at the first request or run.
                await keeper_of(rt.state, rt.db, interval).current()
                started = True
            claimed = await claim_next_run(rt.db)
            if claimed is None:
                await asyncio.sleep(poll_s)
                continue
            run_id, attempt = claimed
            try:
                await execute_run(rt, run_id, attempt)
            except Exception as error:
                log.exception("match run %s failed", run_id)
                reason = f"{type(error).__name__}: {error}"[:1000]
                await _finish(rt.db, run_id, attempt, "failed", [], error=reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("match-run loop failed; trying again in %g s", poll_s)
            await asyncio.sleep(poll_s)
