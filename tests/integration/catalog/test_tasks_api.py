"""The catalog API against a real database: tasks are created, published and cancelled, the
events land in the outbox in the same transaction, and bad input changes nothing."""

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from services.catalog.main import create_app
from services.catalog.settings import CatalogSettings
from services.kernel.outbox import OutboxMessage
from tests.builders import a_task
from tests.integration.catalog.conftest import seed_skills
from tests.integration.conftest import service_settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def outbox_rows(app) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with app.state.db.sessions() as session:
        return list(
            await session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.position))
        )


async def task_count(app) -> int:  # type: ignore[no-untyped-def]
    async with app.state.db.sessions() as session:
        return int(await session.scalar(sa.text("SELECT count(*) FROM task")))


async def test_publishing_a_task_stages_task_published_in_the_outbox(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    manager = bearer(token_for("manager", sub="mgr-1"))
    async with client_of(app) as client:
        await seed_skills(app)
        created = await client.post("/v1/tasks", json=a_task(), headers=manager)
        assert created.status_code == 201, created.text
        task = created.json()
        assert task["status"] == "draft" and task["owner_id"] == "mgr-1"
        assert created.headers["location"] == f"/v1/tasks/{task['id']}"
        assert await outbox_rows(app) == []  # a draft is not announced

        published = await client.post(f"/v1/tasks/{task['id']}:publish", headers=manager)
        assert published.status_code == 200
        assert published.json()["status"] == "open"
        assert published.headers["etag"] == '"2"'

        rows = await outbox_rows(app)
        assert [r.event_type for r in rows] == ["taskforce.catalog.task.published.v1"]
        assert rows[0].topic == "catalog.tasks" and rows[0].key == task["id"]
        assert rows[0].payload["version"] == 2 and rows[0].payload["status"] == "open"
        assert rows[0].sent_at is None


async def test_publishing_twice_is_refused_and_announces_nothing_more(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    manager = bearer(token_for("manager"))
    async with client_of(app) as client:
        await seed_skills(app)
        task = (await client.post("/v1/tasks", json=a_task(), headers=manager)).json()
        await client.post(f"/v1/tasks/{task['id']}:publish", headers=manager)
        again = await client.post(f"/v1/tasks/{task['id']}:publish", headers=manager)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["type"].endswith("task-not-publishable")
        assert len(await outbox_rows(app)) == 1
        assert (await client.get(f"/v1/tasks/{task['id']}", headers=manager)).json()["version"] == 2


async def test_invalid_tasks_get_field_errors_and_change_nothing(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    manager = bearer(token_for("manager"))
    cases = {
        "end_date": a_task(start_date="2027-02-01", end_date="2027-01-01"),
        "seats": a_task(seats=0),
        "hours_per_week": a_task(hours_per_week=61),
        "learning_seats": a_task(seats=1, learning_seats=2),
        "required_skills": a_task(
            required_skills=[{"skill_id": "taskforce:python", "min_level": 2, "required": False}]
        ),
    }
    async with client_of(app) as client:
        await seed_skills(app)
        for field, body in cases.items():
            response = await client.post("/v1/tasks", json=body, headers=manager)
            assert response.status_code == 422, field
            assert response.headers["content-type"] == "application/problem+json"
            locs = [error["loc"] for error in response.json()["errors"]]
            assert ["body", field] in locs, (field, locs)
        assert await task_count(app) == 0
        assert await outbox_rows(app) == []


async def test_only_the_owner_or_an_admin_moves_a_task(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        task = (
            await client.post(
                "/v1/tasks", json=a_task(), headers=bearer(token_for("manager", sub="owner"))
            )
        ).json()
        other = await client.post(
            f"/v1/tasks/{task['id']}:publish",
            headers=bearer(token_for("manager", sub="someone-else")),
        )
        assert other.status_code == 403
        worker = await client.post("/v1/tasks", json=a_task(), headers=bearer(token_for("worker")))
        assert worker.status_code == 403
        admin = await client.post(
            f"/v1/tasks/{task['id']}:publish", headers=bearer(token_for("admin"))
        )
        assert admin.status_code == 200
        assert len(await outbox_rows(app)) == 1


async def test_cancelling_an_open_task_announces_it_closed_and_a_draft_silently(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    manager = bearer(token_for("manager"))
    async with client_of(app) as client:
        await seed_skills(app)
        draft = (await client.post("/v1/tasks", json=a_task(), headers=manager)).json()
        live = (await client.post("/v1/tasks", json=a_task(), headers=manager)).json()
        await client.post(f"/v1/tasks/{live['id']}:publish", headers=manager)
        for task in (draft, live):
            response = await client.post(f"/v1/tasks/{task['id']}:cancel", headers=manager)
            assert response.json()["status"] == "cancelled"
        again = await client.post(f"/v1/tasks/{live['id']}:cancel", headers=manager)
        assert again.status_code == 409
        types = [r.event_type for r in await outbox_rows(app)]
        assert types == ["taskforce.catalog.task.published.v1", "taskforce.catalog.task.closed.v1"]


async def test_listing_pages_with_an_opaque_cursor_and_refuses_a_forged_one(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    manager = bearer(token_for("manager"))
    async with client_of(app) as client:
        await seed_skills(app)
        ids = [
            (await client.post("/v1/tasks", json=a_task(title=f"t{i}"), headers=manager)).json()[
                "id"
            ]
            for i in range(5)
        ]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/tasks", params=params, headers=manager)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ids
        for forged in ("not-base64!!", "WyJ4Il0", "e30"):
            response = await client.get("/v1/tasks", params={"cursor": forged}, headers=manager)
            assert response.status_code == 422, forged
        too_many = await client.get("/v1/tasks", params={"limit": 201}, headers=manager)
        assert too_many.status_code == 422


async def test_requests_without_a_valid_token_are_refused(
    database_url: str, key_file: Path, client_of: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic x"}):
            response = await client.get("/v1/tasks", headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_create_retried_with_its_idempotency_key_returns_the_first_task(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    manager = bearer(token_for("manager", sub="mgr-1"))
    async with client_of(app) as client:
        await seed_skills(app)
        keyed = manager | {"Idempotency-Key": "project-tool-42"}
        first = await client.post("/v1/tasks", json=a_task(), headers=keyed)
        again = await client.post("/v1/tasks", json=a_task(), headers=keyed)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert await task_count(app) == 1

        other_body = await client.post("/v1/tasks", json=a_task(title="else"), headers=keyed)
        assert other_body.status_code == 422
        assert other_body.json()["type"].endswith("idempotency-key-reused")
        someone_else = bearer(token_for("manager", sub="mgr-2")) | {
            "Idempotency-Key": "project-tool-42"
        }
        assert (
            await client.post("/v1/tasks", json=a_task(), headers=someone_else)
        ).status_code == 201
        assert await task_count(app) == 2
