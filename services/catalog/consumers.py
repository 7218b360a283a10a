"""Catalog's consumers: its copy of the taxonomy, and seat counts from matching's
assignments. Each applies only a newer version."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.models import SkillRef, Task, TaskAssignment
from services.catalog.service import SOURCE
from services.kernel.contracts.matching import ASSIGNMENTS_TOPIC, HOLDS_SEAT, AssignmentUpdated
from services.kernel.contracts.profiles import SKILLS_TOPIC, SkillUpserted
from services.kernel.events import Envelope
from services.kernel.kafka import Consumer
from services.kernel.outbox import add_event


async def on_skill_upserted(session: AsyncSession, envelope: Envelope) -> None:
    skill = SkillUpserted.model_validate(envelope.data)
    row = await session.get(SkillRef, skill.id)
    if row is not None and row.version >= skill.version:
        return
    row = row or SkillRef(id=skill.id)
    row.version, row.label = skill.version, skill.label
    row.alt_labels, row.skill_type = list(skill.alt_labels), skill.skill_type
    session.add(row)


async def on_assignment_updated(session: AsyncSession, envelope: Envelope) -> None:
    """Seats follow assignments: a task is filled when every seat is held, and opens again
    when one frees."""
    assignment = AssignmentUpdated.model_validate(envelope.data)
    row = await session.get(TaskAssignment, assignment.id)
    if row is not None and row.version >= assignment.version:
        return
    row = row or TaskAssignment(id=assignment.id, task_id=assignment.task_id)
    row.version, row.status = assignment.version, assignment.status
    session.add(row)
    await session.flush()
    task = await session.get(Task, assignment.task_id)
    if task is None:
        return
    held = await session.scalar(
        sa.select(sa.func.count())
        .select_from(TaskAssignment)
        .where(TaskAssignment.task_id == task.id, TaskAssignment.status.in_(HOLDS_SEAT))
    )
    event = task.count_seats(int(held or 0))
    if event is not None:
        add_event(session, event, SOURCE)


CONSUMERS = [
    Consumer(
        name="catalog",
        topics=[SKILLS_TOPIC, ASSIGNMENTS_TOPIC],
        handlers={
            SkillUpserted.type: on_skill_upserted,
            AssignmentUpdated.type: on_assignment_updated,
        },
    ),
]
