"""Catalog HTTP routes: each calls one use case."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog import service
from services.catalog.models import Task
from services.catalog.schemas import BulkResult, TaskCreate, TaskRead, TaskUpdate
from services.kernel.auth import CurrentUser, User, machine_scope, require_roles
from services.kernel.contracts.catalog import TaskKind, TaskStatus
from services.kernel.errors import InvalidInput
from services.kernel.idempotency import KeyHeader, claim, create_once, mark_created
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import PROBLEM_RESPONSES, IfMatch, db_session

router = APIRouter(
    prefix="/v1",
    tags=["tasks"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(machine_scope(lambda _: "tasks"))],
)
Session = Annotated[AsyncSession, Depends(db_session)]
Manager = Annotated[CurrentUser, Depends(require_roles("manager", "admin", "service"))]


def answer(task: Task, response: Response) -> TaskRead:
    response.headers["ETag"] = f'"{task.version}"'
    return TaskRead.of(task)


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
    mark_created(response, f"/v1/tasks/{task.id}", replayed)
    return answer(task, response)


@router.post(
    "/tasks:bulk",
    response_model=BulkResult,
    summary="Create draft tasks from NDJSON",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def bulk_create_tasks(request: Request, session: Session, user: Manager) -> BulkResult:
    body = bytearray()
    async for chunk in request.stream():  # the size limit is enforced by BodyLimit
        body += chunk
    try:
        lines = body.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InvalidInput("The body is not UTF-8 NDJSON.") from exc
    if len(lines) > 10_000:
        raise InvalidInput("At most 10,000 lines per request.")
    return await service.bulk_create_tasks(session, lines, user)


@router.get("/tasks", response_model=Page[TaskRead], summary="List and search tasks")
async def list_tasks(
    session: Session,
    user: User,
    status: TaskStatus | None = None,
    kind: TaskKind | None = None,
    skill: Annotated[str | None, Query(max_length=300, description="a required skill id")] = None,
    org_unit: Annotated[str | None, Query(max_length=100)] = None,
    overlaps_from: Annotated[date | None, Query(description="ends on or after")] = None,
    overlaps_to: Annotated[date | None, Query(description="starts on or before")] = None,
    remote: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="in title or description")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[TaskRead]:
    tasks, next_cursor = await service.list_tasks(
        session,
        user,
        status=status,
        kind=kind,
        skill=skill,
        org_unit=org_unit,
        overlaps_from=overlaps_from,
        overlaps_to=overlaps_to,
        remote=remote,
        q=q,
        limit=limit,
        cursor=cursor,
    )
    return Page[TaskRead](items=[TaskRead.of(t) for t in tasks], next_cursor=next_cursor)


@router.get("/tasks/{task_id}", response_model=TaskRead, summary="Read a task")
async def get_task(
    task_id: uuid.UUID, session: Session, user: User, response: Response
) -> TaskRead:
    return answer(await service.read_task(session, task_id, user), response)


@router.patch(
    "/tasks/{task_id}",
    response_model=TaskRead,
    summary="Edit a draft or open task (If-Match honoured); an open task's change is announced",
)
async def update_task(
    task_id: uuid.UUID,
    data: TaskUpdate,
    session: Session,
    user: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> TaskRead:
    return answer(await service.update_task(session, task_id, data, user, if_match), response)


@router.post(
    "/tasks/{task_id}:publish", response_model=TaskRead, summary="Publish a draft task for staffing"
)
async def publish_task(
    task_id: uuid.UUID, session: Session, user: Manager, response: Response
) -> TaskRead:
    return answer(await service.publish_task(session, task_id, user), response)


@router.post("/tasks/{task_id}:start", response_model=TaskRead, summary="Start the work")
async def start_task(
    task_id: uuid.UUID, session: Session, user: Manager, response: Response
) -> TaskRead:
    return answer(await service.start_task(session, task_id, user), response)


@router.post("/tasks/{task_id}:complete", response_model=TaskRead, summary="Complete the work")
async def complete_task(
    task_id: uuid.UUID, session: Session, user: Manager, response: Response
) -> TaskRead:
    return answer(await service.complete_task(session, task_id, user), response)


@router.post("/tasks/{task_id}:cancel", response_model=TaskRead, summary="Cancel a task")
async def cancel_task(
    task_id: uuid.UUID, session: Session, user: Manager, response: Response
) -> TaskRead:
    return answer(await service.cancel_task(session, task_id, user), response)
