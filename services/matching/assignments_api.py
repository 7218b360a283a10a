"""Assignment and hours-ledger routes: each calls one use case."""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import User, machine_scope
from services.kernel.contracts.matching import AssignmentStatus
from services.kernel.idempotency import KeyHeader, claim, create_once, mark_created
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import PROBLEM_RESPONSES, IfMatch, db_session
from services.matching import assignments, assignments_access
from services.matching.assignments_models import Assignment
from services.matching.assignments_schemas import (
    AssignmentCompletion,
    AssignmentCreate,
    AssignmentRead,
    AssignmentReason,
    LedgerRead,
)
from services.matching.settings import MatchingSettings

router = APIRouter(
    prefix="/v1",
    tags=["assignments"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(machine_scope(lambda _: "matching"))],
)
Session = Annotated[AsyncSession, Depends(db_session)]
Reason = Annotated[AssignmentReason | None, Body()]


def settings_of(request: Request) -> MatchingSettings:
    return request.app.state.settings


Settings = Annotated[MatchingSettings, Depends(settings_of)]


def answer(assignment: Assignment, response: Response) -> AssignmentRead:
    response.headers["ETag"] = f'"{assignment.version}"'
    return AssignmentRead.of(assignment)


@router.post(
    "/assignments",
    status_code=201,
    response_model=AssignmentRead,
    summary="Offer a task to a worker (directly or from a match run's proposal)",
)
async def offer_assignment(
    data: AssignmentCreate,
    session: Session,
    user: User,
    response: Response,
    idempotency_key: KeyHeader = None,
) -> AssignmentRead:
    claimed = claim(user.sub, idempotency_key, data)
    assignment, replayed = await create_once(
        session,
        claimed,
        lambda: assignments.offer_assignment(session, data, user, claimed),
        lambda assignment_id: assignments_access.get_assignment(session, uuid.UUID(assignment_id)),
    )
    mark_created(response, f"/v1/assignments/{assignment.id}", replayed)
    return answer(assignment, response)


@router.get("/assignments", response_model=Page[AssignmentRead], summary="List assignments")
async def list_assignments(
    session: Session,
    user: User,
    worker_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    status: AssignmentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[AssignmentRead]:
    items, next_cursor = await assignments_access.list_assignments(
        session,
        user,
        worker_id=worker_id,
        task_id=task_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return Page[AssignmentRead](
        items=[AssignmentRead.of(a) for a in items], next_cursor=next_cursor
    )


@router.get(
    "/assignments/{assignment_id}", response_model=AssignmentRead, summary="Read an assignment"
)
async def read_assignment(
    assignment_id: uuid.UUID, session: Session, user: User, response: Response
) -> AssignmentRead:
    return answer(await assignments_access.read_assignment(session, assignment_id, user), response)


@router.post(
    "/assignments/{assignment_id}:accept",
    response_model=AssignmentRead,
    summary="The worker accepts; small commitments are approved at once",
)
async def accept_assignment(
    assignment_id: uuid.UUID,
    session: Session,
    user: User,
    settings: Settings,
    response: Response,
    if_match: IfMatch = None,
) -> AssignmentRead:
    assignment = await assignments.accept_assignment(
        session, assignment_id, user, if_match, settings
    )
    return answer(assignment, response)


@router.post(
    "/assignments/{assignment_id}:decline",
    response_model=AssignmentRead,
    summary="The worker declines an offer",
)
async def decline_assignment(
    assignment_id: uuid.UUID,
    session: Session,
    user: User,
    response: Response,
    data: Reason = None,
    if_match: IfMatch = None,
) -> AssignmentRead:
    reason = data.reason if data else None
    assignment = await assignments.decline_assignment(
        session, assignment_id, user, if_match, reason
    )
    return answer(assignment, response)


@router.post(
    "/assignments/{assignment_id}:approve",
    response_model=AssignmentRead,
    summary="The worker's line manager releases the hours",
)
async def approve_assignment(
    assignment_id: uuid.UUID,
    session: Session,
    user: User,
    response: Response,
    if_match: IfMatch = None,
) -> AssignmentRead:
    assignment = await assignments.approve_assignment(session, assignment_id, user, if_match)
    return answer(assignment, response)


@router.post(
    "/assignments/{assignment_id}:start",
    response_model=AssignmentRead,
    summary="The task's owner starts the work",
)
async def start_assignment(
    assignment_id: uuid.UUID,
    session: Session,
    user: User,
    response: Response,
    if_match: IfMatch = None,
) -> AssignmentRead:
    assignment = await assignments.start_assignment(session, assignment_id, user, if_match)
    return answer(assignment, response)


@router.post(
    "/assignments/{assignment_id}:complete",
    response_model=AssignmentRead,
    summary="The task's owner completes the work and endorses the skills it showed",
)
async def complete_assignment(
    assignment_id: uuid.UUID,
    data: AssignmentCompletion,
    session: Session,
    user: User,
    response: Response,
    if_match: IfMatch = None,
) -> AssignmentRead:
    assignment = await assignments.complete_assignment(
        session, assignment_id, user, if_match, data.skills
    )
    return answer(assignment, response)


@router.post(
    "/assignments/{assignment_id}:withdraw",
    response_model=AssignmentRead,
    summary="The worker withdraws from accepted or running work",
)
async def withdraw_assignment(
    assignment_id: uuid.UUID,
    session: Session,
    user: User,
    response: Response,
    data: Reason = None,
    if_match: IfMatch = None,
) -> AssignmentRead:
    reason = data.reason if data else None
    assignment = await assignments.withdraw_assignment(
        session, assignment_id, user, if_match, reason
    )
    return answer(assignment, response)


@router.post(
    "/assignments/{assignment_id}:cancel",
    response_model=AssignmentRead,
    summary="The task's owner, an admin or a service cancels a live assignment",
)
async def cancel_assignment(
    assignment_id: uuid.UUID,
    session: Session,
    user: User,
    response: Response,
    data: Reason = None,
    if_match: IfMatch = None,
) -> AssignmentRead:
    reason = data.reason if data else None
    assignment = await assignments.cancel_assignment(session, assignment_id, user, if_match, reason)
    return answer(assignment, response)


@router.get(
    "/workers/{worker_id}/ledger",
    response_model=LedgerRead,
    summary="A worker's committed hours per ISO week",
)
async def read_ledger(
    worker_id: uuid.UUID,
    session: Session,
    user: User,
    from_date: Annotated[date | None, Query(description="a day of the first week")] = None,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
) -> LedgerRead:
    return await assignments_access.read_ledger(
        session, worker_id, user, from_date or datetime.now(UTC).date(), weeks
    )
