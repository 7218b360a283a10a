"""Catalog use cases: each loads, applies one rule of the model, stages the event in the outbox
and commits once. Who may see and move a task is decided here."""

import json
import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.models import SkillRef, Task, TaskNotFound, UnknownSkills
from services.catalog.schemas import BulkLineResult, BulkResult, TaskCreate, TaskFields, TaskUpdate
from services.kernel.auth import CurrentUser
from services.kernel.errors import DomainError, invalid_input
from services.kernel.idempotency import Claim
from services.kernel.outbox import add_event
from services.kernel.pagination import paginate, parse_datetime
from services.kernel.web import check_version

SOURCE = "/taskforce/catalog"
STAFF = ("manager", "admin", "service")


async def ensure_known_skills(session: AsyncSession, data: TaskFields) -> None:
    """Every skill a task names must be in the taxonomy (the catalog's copy of it)."""
    named = [
        (["body", "required_skills", str(i), "skill_id"], s.skill_id)
        for i, s in enumerate(data.required_skills)
    ]
    named += [(["body", "learning_skills", str(i)], s) for i, s in enumerate(data.learning_skills)]
    ids = {skill_id for _, skill_id in named}
    known = set(await session.scalars(sa.select(SkillRef.id).where(SkillRef.id.in_(ids))))
    errors = [
        {"loc": loc, "msg": f"unknown skill id {skill_id}", "type": "unknown_skill"}
        for loc, skill_id in named
        if skill_id not in known
    ]
    if errors:
        raise UnknownSkills(
            "Some skills are not in the taxonomy. A skill added a moment ago "
            "reaches the catalog within seconds; retry then.",
            errors=errors,
        )


def _new_task(data: TaskCreate, user: CurrentUser) -> Task:
    owner = data.owner_id if data.owner_id and user.has_any("admin", "service") else user.sub
    return Task(
        **data.model_dump(exclude={"owner_id", "required_skills"}),
        id=uuid.uuid4(),
        required_skills=[skill.model_dump() for skill in data.required_skills],
        owner_id=owner,
        status="draft",
        seats_filled=0,
        version=1,
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )


async def create_task(
    session: AsyncSession, data: TaskCreate, user: CurrentUser, claimed: Claim | None = None
) -> Task:
    await ensure_known_skills(session, data)
    task = _new_task(data, user)
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


def may_see(task: Task, user: CurrentUser) -> bool:
    """A task shown to one org unit is hidden from workers of other units; drafts are the
    owner's and staff's business."""
    if user.has_any(*STAFF) or task.owner_id == user.sub:
        return True
    if task.status == "draft":
        return False
    return task.visibility == "company" or task.org_unit == user.org_unit


async def read_task(session: AsyncSession, task_id: uuid.UUID, user: CurrentUser) -> Task:
    task = await get_task(session, task_id)
    if not may_see(task, user):
        raise TaskNotFound(f"No task with id {task_id}.")
    return task


async def list_tasks(
    session: AsyncSession,
    user: CurrentUser,
    *,
    status: str | None = None,
    kind: str | None = None,
    skill: str | None = None,
    org_unit: str | None = None,
    overlaps_from: date | None = None,
    overlaps_to: date | None = None,
    remote: bool | None = None,
    q: str | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Task], str | None]:
    query = sa.select(Task)
    if not user.has_any(*STAFF):
        query = query.where(
            sa.or_(
                Task.owner_id == user.sub,
                sa.and_(
                    Task.status != "draft",
                    sa.or_(Task.visibility == "company", Task.org_unit == user.org_unit),
                ),
            )
        )
    for column, value in (
        (Task.status, status),
        (Task.kind, kind),
        (Task.org_unit, org_unit),
        (Task.remote, remote),
    ):
        if value is not None:
            query = query.where(column == value)
    if skill:
        # required_skills is JSON written by one serializer on every engine, so its text holds
        # each id as `"skill_id": "<id>"`.
        needle = json.dumps({"skill_id": skill})[1:-1]
        query = query.where(
            sa.cast(Task.required_skills, sa.String).contains(needle, autoescape=True)
        )
    if overlaps_from is not None:
        query = query.where(Task.end_date >= overlaps_from)
    if overlaps_to is not None:
        query = query.where(Task.start_date <= overlaps_to)
    if q:
        pattern = q.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(Task.title).contains(pattern, autoescape=True),
                sa.func.lower(Task.description).contains(pattern, autoescape=True),
            )
        )
    return await paginate(
        session, query, [Task.created_at, Task.id], [parse_datetime, uuid.UUID], limit, cursor
    )


async def _owned(session: AsyncSession, task_id: uuid.UUID, user: CurrentUser) -> Task:
    task = await read_task(session, task_id, user)
    task.ensure_owned_by(user.sub, user.has_any("admin"))
    return task


async def update_task(
    session: AsyncSession,
    task_id: uuid.UUID,
    data: TaskUpdate,
    user: CurrentUser,
    if_match: str | None,
) -> Task:
    task = await _owned(session, task_id, user)
    check_version(task.version, if_match)
    current = TaskFields.model_fields.keys()
    merged = data.merged_into({name: getattr(task, name) for name in current})
    try:
        whole = TaskFields.model_validate(merged)
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    await ensure_known_skills(session, whole)
    changes = whole.model_dump(include=set(data.model_fields_set))
    if "required_skills" in changes:
        changes["required_skills"] = [s.model_dump() for s in whole.required_skills]
    event = task.update(changes)
    if event is not None:
        add_event(session, event, SOURCE)
    await session.commit()
    return task


async def publish_task(session: AsyncSession, task_id: uuid.UUID, user: CurrentUser) -> Task:
    task = await _owned(session, task_id, user)
    add_event(session, task.publish(), SOURCE)
    await session.commit()
    return task


async def start_task(session: AsyncSession, task_id: uuid.UUID, user: CurrentUser) -> Task:
    task = await _owned(session, task_id, user)
    add_event(session, task.start(), SOURCE)
    await session.commit()
    return task


async def complete_task(session: AsyncSession, task_id: uuid.UUID, user: CurrentUser) -> Task:
    task = await _owned(session, task_id, user)
    add_event(session, task.complete(), SOURCE)
    await session.commit()
    return task


async def cancel_task(session: AsyncSession, task_id: uuid.UUID, user: CurrentUser) -> Task:
    task = await _owned(session, task_id, user)
    event = task.cancel()
    if event is not None:
        add_event(session, event, SOURCE)
    await session.commit()
    return task


async def bulk_create_tasks(
    session: AsyncSession, lines: list[str], user: CurrentUser
) -> BulkResult:
    """Project tools: one draft task per NDJSON line, each in its own savepoint, so a bad line
    is reported and the others are still created."""
    results: list[BulkLineResult] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = TaskCreate.model_validate(json.loads(line))
            async with session.begin_nested():
                await ensure_known_skills(session, data)
                task = _new_task(data, user)
                session.add(task)
            results.append(BulkLineResult(line=number, status="created", id=task.id))
        except json.JSONDecodeError as exc:
            results.append(
                BulkLineResult(
                    line=number,
                    status="error",
                    errors=[{"loc": [], "msg": f"not JSON: {exc.msg}", "type": "json"}],
                )
            )
        except ValidationError as exc:
            results.append(
                BulkLineResult(
                    line=number, status="error", errors=invalid_input(exc, "line").errors or []
                )
            )
        except DomainError as exc:
            results.append(
                BulkLineResult(
                    line=number,
                    status="error",
                    errors=exc.errors or [{"loc": [], "msg": exc.detail, "type": exc.slug}],
                )
            )
    await session.commit()
    created = sum(r.status == "created" for r in results)
    return BulkResult(created=created, failed=len(results) - created, results=results)


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
