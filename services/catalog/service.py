"""Catalog use cases: each loads, applies one rule of the model, stages the event in the outbox
and commits once."""

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.models import Task, TaskNotFound
from services.catalog.schemas import TaskCreate
from services.kernel.auth import CurrentUser
from services.kernel.idempotency import Claim
from services.kernel.outbox import add_event
from services.kernel.pagination import paginate, parse_datetime

SOURCE = "/taskforce/catalog"


async def create_task(
    session: AsyncSession, data: TaskCreate, user: CurrentUser, claimed: Claim | None = None
) -> Task:
    owner = data.owner_id if data.owner_id and user.has_any("admin", "service") else user.sub
    task = Task(
        **data.model_dump(exclude={"owner_id", "required_skills"}),
        id=uuid.uuid4(),
        required_skills=[skill.model_dump() for skill in data.required_skills],
        owner_id=owner,
        status="draft",
        version=1,
    )
    session.add(task)
    if claimed is not None:
        claimed.remember(session, str(task.id))
    await session.commit()
    return task


async def get_task(session: AsyncSession, task_id: uuid.UUID) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(f"No task with id {task_id}.")
    return task


async def list_tasks(
    session: AsyncSession, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[Task], str | None]:
    query = sa.select(Task)
    if status:
        query = query.where(Task.status == status)
    return await paginate(
        session, query, [Task.created_at, Task.id], [parse_datetime, uuid.UUID], limit, cursor
    )


async def publish_task(session: AsyncSession, task_id: uuid.UUID, user: CurrentUser) -> Task:
    task = await get_task(session, task_id)
    task.ensure_owned_by(user.sub, user.has_any("admin"))
    add_event(session, task.publish(), SOURCE)
    await session.commit()
    return task


async def cancel_task(session: AsyncSession, task_id: uuid.UUID, user: CurrentUser) -> Task:
    task = await get_task(session, task_id)
    task.ensure_owned_by(user.sub, user.has_any("admin"))
    event = task.cancel()
    if event is not None:
        add_event(session, event, SOURCE)
    await session.commit()
    return task


async def snapshot_tasks(session: AsyncSession) -> int:
    """Stage the current state of every announced task, for consumers to rebuild from."""
    count = 0
    for task in await session.scalars(
        sa.select(Task).where(Task.status != "draft").order_by(Task.created_at)
    ):
        event = task.current_event()
        if event is not None:
            add_event(session, event, SOURCE)
            count += 1
    return count
