"""Interest routes: a worker shows or withdraws interest in an open task; the worker's list and
the task's list. Each calls one use case."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import User, machine_scope
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import PROBLEM_RESPONSES, db_session
from services.matching import interests
from services.matching.interests_schemas import InterestRead, TaskInterestRead

router = APIRouter(
    prefix="/v1",
    tags=["interests"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(machine_scope(lambda _: "matching"))],
)
Session = Annotated[AsyncSession, Depends(db_session)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


@router.put(
    "/workers/{worker_id}/interests/{task_id}",
    response_model=InterestRead,
    responses={201: {"model": InterestRead, "description": "Interest shown"}},
    summary="Show interest in an open task (201 the first time, 200 after)",
)
async def express_interest(
    worker_id: uuid.UUID, task_id: uuid.UUID, session: Session, user: User, response: Response
) -> InterestRead:
    interest, created = await interests.express_interest(session, worker_id, task_id, user)
    response.status_code = 201 if created else 200
    return interest


@router.delete(
    "/workers/{worker_id}/interests/{task_id}",
    status_code=204,
    summary="Withdraw interest in a task (204 whether or not it was shown)",
)
async def withdraw_interest(
    worker_id: uuid.UUID, task_id: uuid.UUID, session: Session, user: User
) -> Response:
    await interests.withdraw_interest(session, worker_id, task_id, user)
    return Response(status_code=204)


@router.get(
    "/workers/{worker_id}/interests",
    response_model=Page[InterestRead],
    summary="The tasks a worker showed interest in, oldest first",
)
async def list_worker_interests(
    worker_id: uuid.UUID,
    session: Session,
    user: User,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[InterestRead]:
    items, next_cursor = await interests.list_worker_interests(
        session, worker_id, user, limit, cursor
    )
    return Page[InterestRead](items=items, next_cursor=next_cursor)


@router.get(
    "/tasks/{task_id}/interests",
    response_model=Page[TaskInterestRead],
    summary="Who showed interest in a task, and when (owner and staff)",
)
async def list_task_interests(
    task_id: uuid.UUID,
    session: Session,
    user: User,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[TaskInterestRead]:
    items, next_cursor = await interests.list_task_interests(session, task_id, user, limit, cursor)
    return Page[TaskInterestRead](items=items, next_cursor=next_cursor)
