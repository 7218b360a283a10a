"""Who may see and move an assignment, and the reads: one assignment, a filtered list, and a
worker's hours ledger. Nothing here writes."""

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.errors import Forbidden
from services.kernel.pagination import paginate, parse_datetime
from services.matching.assignments_models import Assignment, AssignmentNotFound, AssignmentNotYours
from services.matching.assignments_schemas import LedgerEntryRead, LedgerRead, LedgerWeekRead
from services.matching.ledger import commitments_of, week_lines, window
from services.matching.models import TaskView, WorkerView
from services.matching.records import worker_record
from services.matching.service import get_worker_view


async def get_assignment(
    session: AsyncSession, assignment_id: uuid.UUID, lock: bool = False
) -> Assignment:
    assignment = await session.get(Assignment, assignment_id, with_for_update=lock or None)
    if assignment is None:
        raise AssignmentNotFound(f"No assignment with id {assignment_id}.")
    return assignment


async def relations(session: AsyncSession, assignment: Assignment, user: CurrentUser) -> set[str]:
    """How the caller stands to an assignment: `worker` (its worker), `owner` (of the task),
    `manager` (the worker's line manager), `admin`, `service`."""
    found = set(user.roles & {"admin", "service"})
    if user.worker_id == str(assignment.worker_id):
        found.add("worker")
    task = await session.get(TaskView, assignment.task_id)
    if task is not None and task.owner_id == user.sub:
        found.add("owner")
    worker = await session.get(WorkerView, assignment.worker_id)
    if worker is not None and worker.manager_id is not None and worker.manager_id == user.sub:
        found.add("manager")
    return found


async def read_assignment(
    session: AsyncSession, assignment_id: uuid.UUID, user: CurrentUser
) -> Assignment:
    assignment = await get_assignment(session, assignment_id)
    if not await relations(session, assignment, user):
        raise AssignmentNotYours(
            "Only the worker, the task's owner, the worker's manager and admins see this."
        )
    return assignment


def _own_worker_id(user: CurrentUser) -> uuid.UUID | None:
    try:
        return uuid.UUID(user.worker_id) if user.worker_id else None
    except ValueError:
        return None


async def list_assignments(
    session: AsyncSession,
    user: CurrentUser,
    *,
    worker_id: uuid.UUID | None,
    task_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Assignment], str | None]:
    """Admins and services see all; anyone else the assignments they are the worker of, of
    tasks they own, or of workers they manage."""
    query = sa.select(Assignment)
    if not user.has_any("admin", "service"):
        visible = [
            Assignment.task_id.in_(sa.select(TaskView.id).where(TaskView.owner_id == user.sub)),
            Assignment.worker_id.in_(
                sa.select(WorkerView.id).where(WorkerView.manager_id == user.sub)
            ),
        ]
        own = _own_worker_id(user)
        if own is not None:
            visible.append(Assignment.worker_id == own)
        query = query.where(sa.or_(*visible))
    for column, value in (
        (Assignment.worker_id, worker_id),
        (Assignment.task_id, task_id),
        (Assignment.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    return await paginate(
        session,
        query,
        [Assignment.created_at, Assignment.id],
        [parse_datetime, uuid.UUID],
        limit,
        cursor,
    )


async def read_ledger(
    session: AsyncSession, worker_id: uuid.UUID, user: CurrentUser, from_date: date, weeks: int
) -> LedgerRead:
    """The worker's weeks from the one holding `from_date`: capacity, committed and remaining
    hours, and the assignments that commit them."""
    row = await get_worker_view(session, worker_id)
    line_manager = row.manager_id is not None and user.sub == row.manager_id
    if not (
        user.has_any("manager", "admin", "service")
        or user.worker_id == str(worker_id)
        or line_manager
    ):
        raise Forbidden("Only the worker, their manager and staff may see these hours.")
    first, between = window(from_date, weeks)
    commitments = await commitments_of(session, worker_id, between)
    return LedgerRead(
        worker_id=row.id,
        weekly_hours=row.weekly_hours,
        weeks=[
            LedgerWeekRead(
                week=line.label,
                week_start=line.week_start,
                capacity_hours=round(line.capacity_hours, 2),
                committed_hours=round(line.committed_hours, 2),
                remaining_hours=round(line.remaining_hours, 2),
                assignments=[
                    LedgerEntryRead(
                        assignment_id=c.assignment_id, task_id=c.task_id, hours=c.hours_per_week
                    )
                    for c in line.commitments
                ],
            )
            for line in week_lines(worker_record(row), commitments, first, weeks)
        ],
    )
