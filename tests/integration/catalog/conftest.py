"""Catalog fixtures: the taxonomy copy the catalog validates against, filled the way
production fills it (SkillUpserted events through the catalog's own consumer)."""

from services.catalog.consumers import CONSUMERS
from services.kernel.contracts.profiles import SkillUpserted
from services.kernel.events import Envelope
from services.kernel.kafka import apply_record

SKILLS = ("taskforce:python", "taskforce:sql", "taskforce:excel", "taskforce:nursing")


async def seed_skills(app, *ids: str) -> None:  # type: ignore[no-untyped-def]
    for skill_id in ids or SKILLS:
        event = SkillUpserted(
            id=skill_id, version=1, label=skill_id.split(":")[-1], source="taskforce"
        )
        await apply_record(app.state.db, CONSUMERS[0], Envelope.wrap(event, "/test"))
