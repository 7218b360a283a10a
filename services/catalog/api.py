"""Catalog HTTP routes: each calls one use case."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog import service
from services.catalog.schemas import TaskCreate, TaskRead
from services.kernel.auth import CurrentUser, User, require_roles
from services.kernel.contracts.catalog import TaskStatus
from services.kernel.idempotency import KeyHeader, claim, create_once
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import PROBLEM_RESPONSES, db_session

router = APIRouter(prefix="/v1", tags=["tasks"], responses=PROBLEM_RESPONSES)
Session = Annotated[AsyncSession, Depends(db_session)]
Manager = Annotated[CurrentUser, Depends(require_roles("manager", "admin", "service"))]


@router.post("/tasks", status_code=201, response_model=TaskRead, summary="Create a draft task")
async def create_task(
    data: TaskCreate,
    session: Session,
    user: Manager,
    response: Response,
    idempotency_key: KeyHeader = None,
) -> TaskRead:
    claimed = claim(user.sub, idempotency_key, data)
    task, replayed = await create_once(
        session,
        claimed,
        lambda: service.create_task(session, data, user, claimed),
        lambda task_id: service.get_task(session, uuid.UUID(task_id)),
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/tasks/{task.id}"
    response.headers["ETag"] = f'"{task.version}"'
    return TaskRead.of(task)


@router.get("/tasks", response_model=Page[TaskRead], summary="List tasks")
async def list_tasks(
    session: Session,
    _: User,
    status: TaskStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[TaskRead]:
    tasks, next_cursor = await service.list_tasks(
        session, status=status, limit=limit, cursor=cursor
    )
    return Page[TaskRead](items=[TaskRead.of(t) for t in tasks], next_cursor=next_cursor)


@router.get("/tasks/{task_id}", response_model=TaskRead, summary="Read a task")
async def get_task(task_id: uuid.UUID, session: Session, _: User, response: Response) -> TaskRead:
    task = await service.get_task(session, task_id)
    response.headers["ETag"] = f'"{task.version}"'
    return TaskRead.of(task)


@router.post(
    "/tasks/{task_id}:publish", response_model=TaskRead, summary="Publish a draft task for staffing"
)
async def publish_task(
    task_id: uuid.UUID, session: Session, user: Manager, response: Response
) -> TaskRead:
    task = await service.publish_task(session, task_id, user)
    response.headers["ETag"] = f'"{task.version}"'
    return TaskRead.of(task)


@router.post("/tasks/{task_id}:cancel", response_model=TaskRead, summary="Cancel a task")
async def cancel_task(
    task_id: uuid.UUID, session: Session, user: Manager, response: Response
) -> TaskRead:
    task = await service.cancel_task(session, task_id, user)
    response.headers["ETag"] = f'"{task.version}"'
    return TaskRead.of(task)
