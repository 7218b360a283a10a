"""Interest use cases: a worker shows or withdraws interest in an open task; the worker's and
the task's lists; what a closed task or an erased worker leaves behind; the snapshot. Each
write stages its event and commits once. (The shortlist's flags are read in service.py.)"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.contracts.matching import InterestEnd
from services.kernel.errors import Forbidden
from services.kernel.outbox import add_event
from services.kernel.pagination import paginate, parse_datetime
from services.matching.interests_models import Interest, InterestNotYours, ensure_may_show_interest
from services.matching.interests_schemas import InterestRead, TaskInterestRead
from services.matching.models import TaskView
from services.matching.service import get_task_view, get_worker_view

SOURCE = "/taskforce/matching"
STAFF = ("manager", "admin", "service")


def now() -> datetime:
    return datetime.now(UTC)


def _is_the_worker(worker_id: uuid.UUID, user: CurrentUser) -> bool:
    return user.worker_id == str(worker_id)


def _ensure_acts_for(worker_id: uuid.UUID, user: CurrentUser) -> None:
    if not (_is_the_worker(worker_id, user) or user.has_any("admin")):
        raise InterestNotYours("Only the worker themself or an admin may change their interests.")


async def _reads(session: AsyncSession, rows: list[Interest]) -> list[InterestRead]:
    """Interests with what a worker needs to know of each task (one query for the tasks)."""
    wanted = [row.task_id for row in rows]
    tasks = {
        t.id: t for t in await session.scalars(sa.select(TaskView).where(TaskView.id.in_(wanted)))
    }
    return [
        InterestRead.model_validate(
            {
                "worker_id": row.worker_id,
                "task_id": row.task_id,
                "title": tasks[row.task_id].title,
                "task_status": tasks[row.task_id].status,
                "task_open": tasks[row.task_id].status == "open",
                "created_at": row.created_at,
            }
        )
        for row in rows
    ]


async def express_interest(
    session: AsyncSession, worker_id: uuid.UUID, task_id: uuid.UUID, user: CurrentUser
) -> tuple[InterestRead, bool]:
    """The interest, and whether it is new. Showing it again changes and announces nothing."""
    _ensure_acts_for(worker_id, user)
    worker = await get_worker_view(session, worker_id)
    task = await session.get(TaskView, task_id)
    ensure_may_show_interest(task, worker, user.sub if _is_the_worker(worker_id, user) else None)
    existing = await session.get(Interest, (worker_id, task_id))
    if existing is not None:
        return (await _reads(session, [existing]))[0], False
    interest = Interest(worker_id=worker_id, task_id=task_id, created_at=now())
    session.add(interest)
    try:
        # The primary key settles two requests for one pair at once: the later one replays.
        await session.flush()
    except IntegrityError:
        await session.rollback()
        first = await session.get(Interest, (worker_id, task_id))
        if first is None:
            raise
        return (await _reads(session, [first]))[0], False
    add_event(session, interest.expressed(), SOURCE)
    await session.commit()
    return (await _reads(session, [interest]))[0], True


async def withdraw_interest(
    session: AsyncSession, worker_id: uuid.UUID, task_id: uuid.UUID, user: CurrentUser
) -> None:
    """Idempotent: withdrawing an interest that is not there changes and announces nothing."""
    _ensure_acts_for(worker_id, user)
    interest = await session.get(Interest, (worker_id, task_id), with_for_update=True)
    if interest is None:
        return
    add_event(session, interest.withdrawn(now()), SOURCE)
    await session.delete(interest)
    await session.commit()


async def list_worker_interests(
    session: AsyncSession, worker_id: uuid.UUID, user: CurrentUser, limit: int, cursor: str | None
) -> tuple[list[InterestRead], str | None]:
    """Oldest first. The worker, admins and services see them; a line manager does not."""
    if not (_is_the_worker(worker_id, user) or user.has_any("admin", "service")):
        raise InterestNotYours("Only the worker themself, admins and services see these.")
    rows, next_cursor = await paginate(
        session,
        sa.select(Interest).where(Interest.worker_id == worker_id),
        [Interest.created_at, Interest.task_id],
        [parse_datetime, uuid.UUID],
        limit,
        cursor,
    )
    return await _reads(session, rows), next_cursor


async def list_task_interests(
    session: AsyncSession, task_id: uuid.UUID, user: CurrentUser, limit: int, cursor: str | None
) -> tuple[list[TaskInterestRead], str | None]:
    """Oldest first, for the task's owner and staff."""
    task = await get_task_view(session, task_id)
    if not (task.owner_id == user.sub or user.has_any(*STAFF)):
        raise Forbidden("Only the task's owner, managers, admins and services see who asked.")
    rows, next_cursor = await paginate(
        session,
        sa.select(Interest).where(Interest.task_id == task_id),
        [Interest.created_at, Interest.worker_id],
        [parse_datetime, uuid.UUID],
        limit,
        cursor,
    )
    return [TaskInterestRead(worker_id=r.worker_id, created_at=r.created_at) for r in rows], (
        next_cursor
    )


async def end_interests(
    session: AsyncSession, where: sa.ColumnElement[bool], reason: InterestEnd
) -> int:
    """Delete the interests `where` selects, announcing each as withdrawn for `reason`; the
    caller commits. Used by the consumers when a task closes or a worker is erased."""
    at, count = now(), 0
    for interest in (await session.scalars(sa.select(Interest).where(where))).all():
        add_event(session, interest.withdrawn(at, reason), SOURCE)
        await session.delete(interest)
        count += 1
    return count


async def snapshot_interests(session: AsyncSession) -> int:
    """Stage every current interest (after a broker loss, or for a new consumer)."""
    count = 0
    rows = await session.scalars(sa.select(Interest).order_by(Interest.created_at))
    for interest in rows:
        add_event(session, interest.expressed(), SOURCE)
        count += 1
    return count
