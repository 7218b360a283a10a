"""Matching's consumers against a real database: events become read models once, in version
order, and the shortlist answers 404 until the task is known."""

import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from services.kernel.events import Envelope
from services.kernel.inbox import InboxMessage
from services.kernel.kafka import apply_record
from services.matching.consumers import CONSUMERS
from services.matching.main import create_app
from services.matching.models import TaskView, WorkerView
from services.matching.settings import MatchingSettings
from tests.builders import a_task_published, a_worker_upserted
from tests.integration.conftest import service_settings

CONSUMER = CONSUMERS[0]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_same_event_delivered_twice_is_applied_once(
    database_url: str, key_file: Path, client_of: Callable
) -> None:
    app = create_app(service_settings(MatchingSettings, database_url, key_file))
    async with client_of(app):
        envelope = Envelope.wrap(a_task_published(), "/test")
        assert await apply_record(app.state.db, CONSUMER, envelope) == "applied"
        assert await apply_record(app.state.db, CONSUMER, envelope) == "duplicate"
        async with app.state.db.sessions() as session:
            inbox = await session.scalar(sa.select(sa.func.count()).select_from(InboxMessage))
            tasks = await session.scalar(sa.select(sa.func.count()).select_from(TaskView))
        assert (inbox, tasks) == (1, 1)


async def test_an_older_version_never_overwrites_a_newer_one(
    database_url: str, key_file: Path, client_of: Callable
) -> None:
    app = create_app(service_settings(MatchingSettings, database_url, key_file))
    async with client_of(app):
        worker_id = uuid.uuid4()
        newer = a_worker_upserted(id=worker_id, version=3, name="Ada v3", weekly_hours=12)
        older = a_worker_upserted(id=worker_id, version=2, name="Ada v2", weekly_hours=4)
        for event in (newer, older):
            await apply_record(app.state.db, CONSUMER, Envelope.wrap(event, "/test"))
        async with app.state.db.sessions() as session:
            row = await session.get(WorkerView, worker_id)
        assert row is not None
        assert (row.version, row.name, row.weekly_hours) == (3, "Ada v3", 12)


async def test_candidates_are_404_until_the_task_is_known_then_ranked_and_explained(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(MatchingSettings, database_url, key_file))
    async with client_of(app) as client:
        task = a_task_published(owner_id="owner-1")
        manager = bearer(token_for("manager", sub="owner-1"))
        before = await client.get(f"/v1/tasks/{task.id}/candidates", headers=manager)
        assert before.status_code == 404
        assert before.headers["content-type"] == "application/problem+json"

        expert = a_worker_upserted(
            name="Expert",
            skills=[
                {"skill_id": "taskforce:python", "level": 5},
                {"skill_id": "taskforce:sql", "level": 1},
            ],
        )
        busy = a_worker_upserted(name="Busy", weekly_hours=2)
        novice = a_worker_upserted(
            name="Novice", skills=[{"skill_id": "taskforce:python", "level": 1}]
        )
        for event in (task, expert, busy, novice):
            await apply_record(app.state.db, CONSUMER, Envelope.wrap(event, "/test"))

        shortlist = await client.get(f"/v1/tasks/{task.id}/candidates", headers=manager)
        assert shortlist.status_code == 200
        assert [c["name"] for c in shortlist.json()["items"]] == ["Expert"]
        assert shortlist.json()["items"][0]["matched"][0]["worker_level"] == 5

        why_not = await client.get(f"/v1/tasks/{task.id}/candidates/{busy.id}", headers=manager)
        assert why_not.json()["eligible"] is False
        assert "h/week" in why_not.json()["excluded_by"]
        as_novice = bearer(token_for("worker", worker_id=str(novice.id)))
        mine = await client.get(f"/v1/tasks/{task.id}/candidates/{novice.id}", headers=as_novice)
        assert "must-have" in mine.json()["excluded_by"]
        theirs = await client.get(f"/v1/workers/{expert.id}/recommendations", headers=as_novice)
        assert theirs.status_code == 403
        recs = await client.get(f"/v1/workers/{expert.id}/recommendations", headers=manager)
        assert [r["task_id"] for r in recs.json()["items"]] == [str(task.id)]


async def test_an_erased_worker_disappears_from_matching_and_stays_gone(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    from services.kernel.contracts.profiles import WorkerErased

    app = create_app(service_settings(MatchingSettings, database_url, key_file))
    async with client_of(app) as client:
        task = a_task_published(owner_id="owner-1")
        ada = a_worker_upserted(name="Ada Lovelace", version=1)
        for event in (
            task,
            ada,
            WorkerErased(id=ada.id, version=2),
            a_worker_upserted(id=ada.id, name="Ada Lovelace", version=1),
        ):
            await apply_record(app.state.db, CONSUMER, Envelope.wrap(event, "/test"))
        manager = bearer(token_for("manager"))
        shortlist = await client.get(f"/v1/tasks/{task.id}/candidates", headers=manager)
        assert shortlist.json()["items"] == []
        async with app.state.db.sessions() as session:
            row = await session.get(WorkerView, ada.id)
        assert row is not None and (row.name, row.status, row.skills) == ("", "erased", [])
