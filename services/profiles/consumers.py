"""Profiles' consumers: skill evidence from completed assignments."""

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.contracts.matching import ASSIGNMENTS_TOPIC, AssignmentCompleted
from services.kernel.events import Envelope
from services.kernel.kafka import Consumer
from services.kernel.outbox import add_event
from services.profiles.models import Skill, SkillEvidence, Worker
from services.profiles.skills import SOURCE

log = logging.getLogger("taskforce.profiles.consumers")


async def on_assignment_completed(session: AsyncSession, envelope: Envelope) -> None:
    """Record each demonstrated skill as `earned` evidence with its date; the profile's level
    moves only where the completing manager endorsed one."""
    done = AssignmentCompleted.model_validate(envelope.data)
    worker = await session.get(Worker, done.worker_id)
    if worker is None or worker.status == "erased":
        return
    known = set(
        await session.scalars(
            sa.select(Skill.id).where(Skill.id.in_([s.skill_id for s in done.skills]))
        )
    )
    shown = []
    for skill in done.skills:
        if skill.skill_id not in known:
            log.warning("assignment %s names unknown skill %s", done.id, skill.skill_id)
            continue
        if await session.get(SkillEvidence, (done.id, skill.skill_id)) is None:
            session.add(
                SkillEvidence(
                    assignment_id=done.id,
                    skill_id=skill.skill_id,
                    worker_id=worker.id,
                    task_id=done.task_id,
                    demonstrated_on=done.completed_on,
                    endorsed_level=skill.endorsed_level,
                    endorsed_by=done.endorsed_by,
                )
            )
        shown.append((skill.skill_id, skill.endorsed_level))
    event = worker.record_assignment(shown, done.completed_on)
    if event is not None:
        add_event(session, event, SOURCE)


CONSUMERS = [
    Consumer(
        name="profiles",
        topics=[ASSIGNMENTS_TOPIC],
        handlers={AssignmentCompleted.type: on_assignment_completed},
    ),
]
