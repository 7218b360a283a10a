"""Match-run use cases: ask for a run, read it and its proposals, cancel it. The run itself is
executed by the worker (`run_executor.py`)."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.contracts.matching import MatchRunCompleted, MatchRunStatistics
from services.kernel.idempotency import Claim
from services.kernel.outbox import add_event
from services.kernel.pagination import paginate
from services.matching.runs_models import (
    FINISHED,
    MatchRun,
    MatchRunFinished,
    MatchRunNotFound,
    Proposal,
)
from services.matching.schemas import MatchRunCreate, MatchRunRead, ProposalRead

SOURCE = "/matching"


def now() -> datetime:
    return datetime.now(UTC)


async def start_match_run(
    session: AsyncSession, data: MatchRunCreate, user: CurrentUser, claimed: Claim | None
) -> MatchRun:
    run = MatchRun(
        id=uuid.uuid4(),
        status="queued",
        phase="queued",
        progress=0.0,
        requested_by=user.sub,
        scope=data.scope.model_dump(mode="json"),
        weights=data.weights.model_dump(),
        fairness=data.fairness.model_dump(),
        time_limit_s=data.time_limit_s,
        stats={},
        cancel_requested=False,
        attempts=0,
        created_at=now(),
    )
    session.add(run)
    if claimed:
        claimed.remember(session, str(run.id))
    await session.commit()
    return run


async def get_match_run(session: AsyncSession, run_id: uuid.UUID) -> MatchRun:
    run = await session.get(MatchRun, run_id)
    if run is None:
        raise MatchRunNotFound(f"No match run {run_id}.")
    return run


def completed_event(run: MatchRun, proposals: int) -> MatchRunCompleted:
    stats = {k: v for k, v in run.stats.items() if k in MatchRunStatistics.model_fields}
    return MatchRunCompleted(
        id=run.id,
        status=run.status,  # type: ignore[arg-type]
        requested_by=run.requested_by,
        proposals=proposals,
        statistics=MatchRunStatistics(**stats),
        error=run.error,
    )


async def cancel_match_run(session: AsyncSession, run_id: uuid.UUID) -> MatchRun:
    """A queued run is cancelled at once; a running one is asked to stop and is cancelled by
    its executor within a few seconds, without proposals."""
    run = await session.get(MatchRun, run_id, with_for_update=True)
    if run is None:
        raise MatchRunNotFound(f"No match run {run_id}.")
    if run.status in FINISHED:
        raise MatchRunFinished(f"The run has already {run.status}.")
    run.cancel_requested = True
    if run.status == "queued":
        run.status, run.phase, run.finished_at = "cancelled", "cancelled", now()
        add_event(session, completed_event(run, 0), SOURCE)
    await session.commit()
    return run


def run_read(run: MatchRun) -> MatchRunRead:
    return MatchRunRead(
        id=run.id,
        status=run.status,  # type: ignore[arg-type]
        phase=run.phase,
        progress=round(run.progress, 3),
        requested_by=run.requested_by,
        scope=run.scope,  # type: ignore[arg-type]
        weights=run.weights,  # type: ignore[arg-type]
        fairness=run.fairness,  # type: ignore[arg-type]
        time_limit_s=run.time_limit_s,
        statistics=run.stats,
        error=run.error,
        cancel_requested=run.cancel_requested,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


async def list_proposals(
    session: AsyncSession, run_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[ProposalRead], str | None]:
    await get_match_run(session, run_id)
    query = sa.select(Proposal).where(Proposal.run_id == run_id)
    rows, next_cursor = await paginate(
        session, query, [Proposal.task_id, Proposal.id], [uuid.UUID, uuid.UUID], limit, cursor
    )
    items = [
        ProposalRead(
            id=p.id,
            run_id=p.run_id,
            task_id=p.task_id,
            worker_id=p.worker_id,
            score=p.score,
            learning_seat=p.learning_seat,
            explanation=p.explanation,  # type: ignore[arg-type]
            assignment_id=p.assignment_id,
        )
        for p in rows
    ]
    return items, next_cursor


async def list_match_runs(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[MatchRunRead], str | None]:
    rows, next_cursor = await paginate(
        session,
        sa.select(MatchRun),
        [MatchRun.created_at, MatchRun.id],
        [datetime.fromisoformat, uuid.UUID],
        limit,
        cursor,
    )
    return [run_read(run) for run in rows], next_cursor
