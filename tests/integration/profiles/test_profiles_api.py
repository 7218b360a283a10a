"""The profiles API against a real database: skills and workers are stored and announced in
the same transaction, unknown skills are refused without a trace."""

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from services.kernel.outbox import OutboxMessage
from services.profiles.main import create_app
from services.profiles.settings import ProfilesSettings
from tests.builders import a_skill, a_worker
from tests.integration.conftest import service_settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def event_types(app) -> list[str]:  # type: ignore[no-untyped-def]
    async with app.state.db.sessions() as session:
        return list(
            await session.scalars(
                sa.select(OutboxMessage.event_type).order_by(OutboxMessage.position)
            )
        )


async def test_registering_a_worker_stores_skills_and_announces_the_profile(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(ProfilesSettings, database_url, key_file))
    async with client_of(app) as client:
        admin = bearer(token_for("admin"))
        assert (await client.post("/v1/skills", json=a_skill(), headers=admin)).status_code == 201
        hris = bearer(token_for("service"))
        created = await client.post("/v1/workers", json=a_worker(), headers=hris)
        assert created.status_code == 201, created.text
        worker = created.json()
        assert worker["version"] == 1 and worker["status"] == "active"
        assert worker["skills"][0]["skill_id"] == "taskforce:python"

        replaced = await client.put(
            f"/v1/workers/{worker['id']}/skills",
            headers=hris,
            json={"skills": [{"skill_id": "taskforce:python", "level": 5, "source": "assessment"}]},
        )
        assert replaced.status_code == 200
        assert replaced.json()["version"] == 2 and replaced.json()["skills"][0]["level"] == 5
        assert await event_types(app) == [
            "taskforce.profiles.skill.updated.v1",
            "taskforce.profiles.worker.registered.v1",
            "taskforce.profiles.worker.updated.v1",
        ]


async def test_unknown_skills_are_refused_and_nothing_is_written(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(ProfilesSettings, database_url, key_file))
    async with client_of(app) as client:
        response = await client.post(
            "/v1/workers",
            headers=bearer(token_for("manager")),
            json=a_worker(skills=[{"skill_id": "taskforce:telepathy", "level": 3}]),
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "skills"]
        orphan = await client.post(
            "/v1/skills",
            headers=bearer(token_for("admin")),
            json=a_skill(id="taskforce:child", broader=["taskforce:none"]),
        )
        assert orphan.status_code == 422
        listed = await client.get("/v1/workers", headers=bearer(token_for("manager")))
        assert listed.json()["items"] == []
        assert await event_types(app) == []


async def test_a_worker_sees_and_edits_only_their_own_profile(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(ProfilesSettings, database_url, key_file))
    async with client_of(app) as client:
        await client.post("/v1/skills", json=a_skill(), headers=bearer(token_for("admin")))
        staff = bearer(token_for("service"))
        ada = (await client.post("/v1/workers", json=a_worker(), headers=staff)).json()
        bob = (await client.post("/v1/workers", json=a_worker(name="Bob"), headers=staff)).json()
        as_ada = bearer(token_for("worker", worker_id=ada["id"]))
        assert (await client.get(f"/v1/workers/{ada['id']}", headers=as_ada)).status_code == 200
        assert (await client.get(f"/v1/workers/{bob['id']}", headers=as_ada)).status_code == 403
        change = await client.put(
            f"/v1/workers/{bob['id']}/skills", headers=as_ada, json={"skills": []}
        )
        assert change.status_code == 403
        assert (await client.get("/v1/workers", headers=as_ada)).status_code == 403
        bob_now = (await client.get(f"/v1/workers/{bob['id']}", headers=staff)).json()
        assert bob_now["version"] == 1 and len(bob_now["skills"]) == 1


async def test_duplicate_external_ids_and_skill_ids_conflict(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(ProfilesSettings, database_url, key_file))
    async with client_of(app) as client:
        admin = bearer(token_for("admin"))
        await client.post("/v1/skills", json=a_skill(), headers=admin)
        assert (await client.post("/v1/skills", json=a_skill(), headers=admin)).status_code == 409
        body = a_worker(external_id="HR-1")
        assert (await client.post("/v1/workers", json=body, headers=admin)).status_code == 201
        assert (await client.post("/v1/workers", json=body, headers=admin)).status_code == 409
        found = await client.get("/v1/skills", params={"q": "python prog"}, headers=admin)
        assert [s["id"] for s in found.json()["items"]] == ["taskforce:python"]


async def test_retried_creates_with_an_idempotency_key_make_one_skill_and_one_worker(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(ProfilesSettings, database_url, key_file))
    async with client_of(app) as client:
        admin = bearer(token_for("admin", sub="hris")) | {"Idempotency-Key": "batch-7-skill"}
        for _ in range(2):
            assert (
                await client.post("/v1/skills", json=a_skill(), headers=admin)
            ).status_code == 201
        hris = bearer(token_for("service", sub="hris")) | {"Idempotency-Key": "batch-7-ada"}
        body = a_worker(external_id="HR-7")
        ids = {
            (await client.post("/v1/workers", json=body, headers=hris)).json()["id"]
            for _ in range(3)
        }
        assert len(ids) == 1
        assert await event_types(app) == [
            "taskforce.profiles.skill.updated.v1",
            "taskforce.profiles.worker.registered.v1",
        ]
