"""Matching HTTP routes: each calls one use case."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser, User, machine_scope, require_roles
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import PROBLEM_RESPONSES, db_session
from services.matching import service
from services.matching.index import MatchIndex
from services.matching.projections import keeper_of
from services.matching.schemas import CandidateRead, CandidateVerdict, RecommendationRead

router = APIRouter(
    prefix="/v1",
    tags=["matching"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(machine_scope(lambda _: "matching"))],
)
Session = Annotated[AsyncSession, Depends(db_session)]
Staff = Annotated[CurrentUser, Depends(require_roles("manager", "admin", "service"))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=1000)]


async def current_index(request: Request) -> MatchIndex:
    rt = request.app.state.runtime
    interval = float(getattr(rt.settings, "index_refresh_interval_s", 0.2))
    return await keeper_of(rt.state, rt.db, interval).current()


Index = Annotated[MatchIndex, Depends(current_index)]


@router.get(
    "/tasks/{task_id}/candidates",
    response_model=Page[CandidateRead],
    summary="Ranked, explained shortlist of workers for an open task",
)
async def list_candidates(
    task_id: uuid.UUID,
    session: Session,
    index: Index,
    _: Staff,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[CandidateRead]:
    items, next_cursor = await service.list_candidates(session, index, task_id, limit, cursor)
    return Page[CandidateRead](items=items, next_cursor=next_cursor)


@router.get(
    "/tasks/{task_id}/candidates/{worker_id}",
    response_model=CandidateVerdict,
    summary="One worker against one task, and the constraint that excludes them",
)
async def judge_candidate(
    task_id: uuid.UUID, worker_id: uuid.UUID, session: Session, user: User
) -> CandidateVerdict:
    service.ensure_may_see_worker(worker_id, user)
    return await service.judge_candidate(session, task_id, worker_id)


@router.get(
    "/workers/{worker_id}/recommendations",
    response_model=Page[RecommendationRead],
    summary="Open work ranked for a worker",
)
async def list_recommendations(
    worker_id: uuid.UUID,
    session: Session,
    index: Index,
    user: User,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RecommendationRead]:
    service.ensure_may_see_worker(worker_id, user)
    items, next_cursor = await service.list_recommendations(
        session, index, worker_id, limit, cursor
    )
    return Page[RecommendationRead](items=items, next_cursor=next_cursor)
