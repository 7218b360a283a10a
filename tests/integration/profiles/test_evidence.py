"""Skill evidence from completed assignments: recorded once, with its date; the level moves
only where the completing manager endorsed one."""

import uuid
from datetime import date

from services.kernel.contracts.matching import AssignmentCompleted
from services.kernel.events import Envelope
from services.kernel.kafka import apply_record
from services.profiles.consumers import CONSUMERS
from tests.integration.profiles.conftest import Profiles


def completed(worker_id: str, **skills: int | None) -> Envelope:
    return Envelope.wrap(
        AssignmentCompleted(
            id=uuid.uuid4(),
            version=1,
            task_id=uuid.uuid4(),
            worker_id=uuid.UUID(worker_id),
            completed_on=date(2026, 11, 20),
            endorsed_by="manager-1",
            skills=[
                {"skill_id": f"taskforce:{name}", "endorsed_level": level}
                for name, level in skills.items()
            ],
        ),
        "/test",
    )


async def test_endorsed_skills_change_level_and_the_rest_only_their_last_use(
    profiles: Profiles,
) -> None:
    ada = await profiles.worker(
        skills=[
            {"skill_id": "taskforce:python", "level": 2},
            {"skill_id": "taskforce:sql", "level": 3},
        ]
    )
    event = completed(ada["id"], python=4, sql=None, excel=2, telepathy=5)
    db = profiles.app.state.db  # type: ignore[attr-defined]
    assert await apply_record(db, CONSUMERS[0], event) == "applied"
    assert await apply_record(db, CONSUMERS[0], event) == "duplicate"

    now = (
        await profiles.client.get(f"/v1/workers/{ada['id']}", headers=profiles.as_("admin"))
    ).json()
    skills = {s["skill_id"]: s for s in now["skills"]}
    assert (skills["taskforce:python"]["level"], skills["taskforce:python"]["source"]) == (
        4,
        "earned",
    )
    assert (skills["taskforce:sql"]["level"], skills["taskforce:sql"]["source"]) == (3, "imported")
    assert skills["taskforce:sql"]["last_used_at"].startswith("2026-11-20")
    assert (skills["taskforce:excel"]["level"], skills["taskforce:excel"]["source"]) == (
        2,
        "earned",
    )
    assert now["version"] == 2
    assert await profiles.count("skill_evidence") == 3  # the unknown skill is not recorded
    assert [kind for kind, key, _ in await profiles.events() if key == ada["id"]] == [
        "upserted",
        "upserted",
    ]


async def test_evidence_for_an_erased_worker_is_ignored(profiles: Profiles) -> None:
    ada = await profiles.worker()
    await profiles.client.delete(f"/v1/workers/{ada['id']}", headers=profiles.as_("admin"))
    db = profiles.app.state.db  # type: ignore[attr-defined]
    await apply_record(db, CONSUMERS[0], completed(ada["id"], python=5))
    assert await profiles.count("skill_evidence") == 0
