"""Match-run routes: ask for a run (202), follow it, read its proposals, cancel it."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser, machine_scope, require_roles
from services.kernel.idempotency import KeyHeader, claim, create_once, mark_created
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import PROBLEM_RESPONSES, db_session
from services.matching import runs
from services.matching.schemas import MatchRunCreate, MatchRunRead, ProposalRead

router = APIRouter(
    prefix="/v1",
    tags=["match runs"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(machine_scope(lambda _: "matching"))],
)
Session = Annotated[AsyncSession, Depends(db_session)]
Staff = Annotated[CurrentUser, Depends(require_roles("manager", "admin", "service"))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=1000)]


@router.post(
    "/match-runs",
    response_model=MatchRunRead,
    status_code=202,
    summary="Ask for an optimised match run over a scope of open tasks; poll its Location",
)
async def start_match_run(
    data: MatchRunCreate,
    session: Session,
    user: Staff,
    response: Response,
    idempotency_key: KeyHeader = None,
) -> MatchRunRead:
    claimed = claim(user.sub, idempotency_key, data)
    run, replayed = await create_once(
        session,
        claimed,
        lambda: runs.start_match_run(session, data, user, claimed),
        lambda run_id: runs.get_match_run(session, uuid.UUID(run_id)),
    )
    mark_created(response, f"/v1/match-runs/{run.id}", replayed)
    response.status_code = 202
    return runs.run_read(run)


@router.get("/match-runs", response_model=Page[MatchRunRead], summary="Match runs, oldest first")
async def list_match_runs(
    session: Session, _: Staff, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[MatchRunRead]:
    items, next_cursor = await runs.list_match_runs(session, limit, cursor)
    return Page[MatchRunRead](items=items, next_cursor=next_cursor)


@router.get(
    "/match-runs/{run_id}",
    response_model=MatchRunRead,
    summary="A run's status, progress and solver statistics",
)
async def get_match_run(run_id: uuid.UUID, session: Session, _: Staff) -> MatchRunRead:
    return runs.run_read(await runs.get_match_run(session, run_id))


@router.get(
    "/match-runs/{run_id}/proposals",
    response_model=Page[ProposalRead],
    summary="The assignments a run proposes, each explained",
)
async def list_proposals(
    run_id: uuid.UUID,
    session: Session,
    _: Staff,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ProposalRead]:
    items, next_cursor = await runs.list_proposals(session, run_id, limit, cursor)
    return Page[ProposalRead](items=items, next_cursor=next_cursor)


@router.post(
    "/match-runs/{run_id}:cancel",
    response_model=MatchRunRead,
    summary="Cancel a queued or running run; a finished one is a 409",
)
async def cancel_match_run(run_id: uuid.UUID, session: Session, _: Staff) -> MatchRunRead:
    return runs.run_read(await runs.cancel_match_run(session, run_id))
