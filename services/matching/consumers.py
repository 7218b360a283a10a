"""Matching's consumers: the explicit table from event type to handler, each an upsert of a
read model guarded by version; a cancelled task and an erased worker also end assignments,
and a closed task and an erased worker end interests."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.contracts.catalog import TASKS_TOPIC, TaskClosed, TaskPublished, TaskUpdated
from services.kernel.contracts.profiles import (
    SKILLS_TOPIC,
    WORKERS_TOPIC,
    SkillUpserted,
    WorkerErased,
    WorkerUpserted,
)
from services.kernel.events import Envelope
from services.kernel.kafka import Consumer
from services.kernel.outbox import add_event
from services.matching.assignments import SOURCE
from services.matching.assignments_models import LIVE, Assignment
from services.matching.interests import end_interests
from services.matching.interests_models import Interest
from services.matching.models import SkillView, TaskView, WorkerView, is_newer, now
from services.matching.runs_models import Proposal


async def cancel_task_assignments(session: AsyncSession, task_id: uuid.UUID) -> int:
    """A cancelled task releases its people: its live assignments are cancelled, which frees
    their hours in the ledger. Returns how many."""
    live = await session.scalars(
        sa.select(Assignment)
        .where(Assignment.task_id == task_id, Assignment.status.in_(LIVE))
        .with_for_update()
    )
    at, count = datetime.now(UTC), 0
    for assignment in live.all():
        add_event(session, assignment.cancel(at, "the task was cancelled"), SOURCE)
        count += 1
    return count


async def erase_worker_assignments(session: AsyncSession, worker_id: uuid.UUID) -> int:
    """An erased worker disappears from matching: their proposals and assignments are deleted,
    each live one first announced as cancelled so the catalog frees its seat. Returns how many
    were cancelled."""
    await session.execute(sa.delete(Proposal).where(Proposal.worker_id == worker_id))
    rows = await session.scalars(
        sa.select(Assignment).where(Assignment.worker_id == worker_id).with_for_update()
    )
    at, cancelled = datetime.now(UTC), 0
    for assignment in rows.all():
        if assignment.status in LIVE:
            add_event(session, assignment.cancel(at, "the worker was erased"), SOURCE)
            cancelled += 1
        await session.delete(assignment)
    return cancelled


async def on_task_changed(session: AsyncSession, envelope: Envelope) -> None:
    task = TaskPublished.model_validate(envelope.data)
    row = await session.get(TaskView, task.id)
    if not is_newer(row.version if row else None, task.version):
        return
    if task.status == "cancelled":
        # Assignments first: an acceptance locks its assignment before the task's row.
        await cancel_task_assignments(session, task.id)
    if task.status in ("completed", "cancelled"):
        # A closed task never reopens, so interest in it means nothing any more; a filled or
        # running task keeps it (a seat may free), and the worker's list says it is not open.
        await end_interests(session, Interest.task_id == task.id, "task_closed")
    row = row or TaskView(id=task.id)
    row.version, row.status, row.title = task.version, task.status, task.title
    row.org_unit, row.owner_id = task.org_unit, task.owner_id
    row.required_skills = [skill.model_dump() for skill in task.required_skills]
    row.hours_per_week, row.seats, row.learning_seats = (
        task.hours_per_week,
        task.seats,
        task.learning_seats,
    )
    row.start_date, row.end_date = task.start_date, task.end_date
    row.remote, row.location, row.synced_at = task.remote, task.location, now()
    row.kind, row.visibility = task.kind, task.visibility
    row.learning_skills = list(task.learning_skills)
    session.add(row)


async def on_worker_upserted(session: AsyncSession, envelope: Envelope) -> None:
    worker = WorkerUpserted.model_validate(envelope.data)
    row = await session.get(WorkerView, worker.id)
    if not is_newer(row.version if row else None, worker.version):
        return
    row = row or WorkerView(id=worker.id)
    row.version, row.name, row.org_unit = worker.version, worker.name, worker.org_unit
    row.status, row.location, row.weekly_hours = (
        worker.status,
        worker.location,
        worker.weekly_hours,
    )
    row.skills = [{"skill_id": s.skill_id, "level": s.level} for s in worker.skills]
    row.aspirations = [aspiration.model_dump() for aspiration in worker.aspirations]
    row.manager_id, row.remote_preference = worker.manager_id, worker.remote_preference
    row.max_concurrent_assignments = worker.max_concurrent_assignments
    row.availability = [window.model_dump(mode="json") for window in worker.availability]
    row.blackouts = [window.model_dump(mode="json") for window in worker.blackouts]
    row.task_kinds = list(worker.preferences.task_kinds)
    row.synced_at = now()
    session.add(row)


async def on_worker_erased(session: AsyncSession, envelope: Envelope) -> None:
    """Forget the person: delete their proposals and assignments, and keep only a tombstone
    (id and version) so that an older event arriving late cannot bring them back."""
    erased = WorkerErased.model_validate(envelope.data)
    # Before the tombstone: an acceptance locks its assignment before the worker's row.
    await erase_worker_assignments(session, erased.id)
    await end_interests(session, Interest.worker_id == erased.id, "worker_erased")
    row = await session.get(WorkerView, erased.id)
    if not is_newer(row.version if row else None, erased.version):
        return
    row = row or WorkerView(id=erased.id)
    row.version, row.status, row.name, row.org_unit, row.location = (
        erased.version,
        "erased",
        "",
        None,
        None,
    )
    row.weekly_hours, row.skills, row.aspirations, row.synced_at = 0, [], [], now()
    row.manager_id, row.availability, row.blackouts, row.task_kinds = None, [], [], []
    session.add(row)


async def on_skill_upserted(session: AsyncSession, envelope: Envelope) -> None:
    skill = SkillUpserted.model_validate(envelope.data)
    row = await session.get(SkillView, skill.id)
    if not is_newer(row.version if row else None, skill.version):
        return
    row = row or SkillView(id=skill.id)
    row.version, row.label = skill.version, skill.label
    row.broader, row.related, row.synced_at = list(skill.broader), list(skill.related), now()
    session.add(row)


CONSUMERS = [
    Consumer(
        name="matching",
        topics=[TASKS_TOPIC, WORKERS_TOPIC, SKILLS_TOPIC],
        handlers={
            TaskPublished.type: on_task_changed,
            TaskUpdated.type: on_task_changed,
            TaskClosed.type: on_task_changed,
            WorkerUpserted.type: on_worker_upserted,
            WorkerErased.type: on_worker_erased,
            SkillUpserted.type: on_skill_upserted,
        },
    ),
]
