"""The rest of the catalog API against a real database: skill validation, edits with If-Match,
the lifecycle, seats following assignments, search filters, bulk create and visibility."""

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from services.catalog.consumers import CONSUMERS
from services.catalog.main import create_app
from services.catalog.settings import CatalogSettings
from services.kernel.contracts.matching import AssignmentUpdated
from services.kernel.events import Envelope
from services.kernel.kafka import apply_record
from services.kernel.outbox import OutboxMessage
from tests.builders import a_task
from tests.integration.catalog.conftest import seed_skills
from tests.integration.conftest import service_settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def event_types(app) -> list[str]:  # type: ignore[no-untyped-def]
    async with app.state.db.sessions() as session:
        return [
            t.rsplit(".", 2)[-2]
            for t in await session.scalars(
                sa.select(OutboxMessage.event_type).order_by(OutboxMessage.position)
            )
        ]


async def test_unknown_skill_ids_are_refused_field_by_field(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        manager = bearer(token_for("manager"))
        body = a_task(
            required_skills=[
                {"skill_id": "taskforce:python", "min_level": 2},
                {"skill_id": "taskforce:telepathy", "min_level": 2},
            ],
            learning_skills=["taskforce:sql", "taskforce:levitation"],
        )
        response = await client.post("/v1/tasks", json=body, headers=manager)
        assert response.status_code == 422
        assert [e["loc"] for e in response.json()["errors"]] == [
            ["body", "required_skills", "1", "skill_id"],
            ["body", "learning_skills", "1"],
        ]
        listed = await client.get("/v1/tasks", headers=manager)
        assert listed.json()["items"] == []


async def test_edits_honour_if_match_and_an_open_tasks_change_is_announced(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        owner = bearer(token_for("manager", sub="owner"))
        task = (await client.post("/v1/tasks", json=a_task(), headers=owner)).json()
        url = f"/v1/tasks/{task['id']}"
        draft_edit = await client.patch(
            url, json={"title": "Renamed"}, headers=owner | {"If-Match": '"1"'}
        )
        assert draft_edit.status_code == 200 and draft_edit.headers["etag"] == '"2"'
        assert await event_types(app) == []  # drafts are not announced
        stale = await client.patch(
            url, json={"title": "Again"}, headers=owner | {"If-Match": '"1"'}
        )
        assert stale.status_code == 412
        await client.post(f"{url}:publish", headers=owner)
        edit = await client.patch(url, json={"hours_per_week": 6}, headers=owner)
        assert edit.json()["hours_per_week"] == 6
        assert await event_types(app) == ["published", "updated"]
        # The merged task must still satisfy every rule.
        bad = await client.patch(url, json={"end_date": "2000-01-01"}, headers=owner)
        assert bad.status_code == 422 and ["body", "end_date"] in [
            e["loc"] for e in bad.json()["errors"]
        ]
        other = await client.patch(
            url, json={"title": "Mine"}, headers=bearer(token_for("manager", sub="someone-else"))
        )
        assert other.status_code == 403
        worker = await client.patch(
            url, json={"title": "Mine"}, headers=bearer(token_for("worker"))
        )
        assert worker.status_code == 403
        assert (await client.get(url, headers=owner)).json()["title"] == "Renamed"


async def test_the_lifecycle_through_the_api_and_illegal_moves_are_409(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        owner = bearer(token_for("manager", sub="owner"))
        task = (await client.post("/v1/tasks", json=a_task(), headers=owner)).json()
        url = f"/v1/tasks/{task['id']}"
        assert (await client.post(f"{url}:start", headers=owner)).status_code == 409
        for action, status in (
            ("publish", "open"),
            ("start", "in_progress"),
            ("complete", "completed"),
        ):
            response = await client.post(f"{url}:{action}", headers=owner)
            assert response.json()["status"] == status, action
        for action in ("publish", "start", "complete", "cancel"):
            refused = await client.post(f"{url}:{action}", headers=owner)
            assert refused.status_code == 409, action
            assert refused.headers["content-type"] == "application/problem+json"
        edit = await client.patch(url, json={"title": "Late"}, headers=owner)
        assert edit.status_code == 409
        assert await event_types(app) == ["published", "updated", "closed"]


async def test_seats_follow_matchings_assignments(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        owner = bearer(token_for("manager", sub="owner"))
        task = (await client.post("/v1/tasks", json=a_task(seats=2), headers=owner)).json()
        await client.post(f"/v1/tasks/{task['id']}:publish", headers=owner)

        async def assignment(ident: uuid.UUID, version: int, status: str) -> None:
            event = AssignmentUpdated(
                id=ident, version=version, task_id=task["id"], worker_id=uuid.uuid4(), status=status
            )
            await apply_record(app.state.db, CONSUMERS[0], Envelope.wrap(event, "/test"))

        async def state() -> tuple[str, int]:
            body = (await client.get(f"/v1/tasks/{task['id']}", headers=owner)).json()
            return body["status"], body["seats_filled"]

        first, second = uuid.uuid4(), uuid.uuid4()
        await assignment(first, 1, "offered")
        assert await state() == ("open", 0)
        await assignment(first, 2, "accepted")
        await assignment(second, 1, "accepted")
        assert await state() == ("filled", 2)
        await assignment(second, 1, "declined")  # an old version changes nothing
        assert await state() == ("filled", 2)
        await assignment(second, 2, "withdrawn")
        assert await state() == ("open", 1)


async def test_search_filters_combine(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        manager = bearer(token_for("manager"))
        bodies = {
            "py": a_task(
                title="Python dashboard", kind="gig", start_date="2027-01-04", end_date="2027-01-29"
            ),
            "sql": a_task(
                title="Warehouse tuning",
                org_unit="Data",
                remote=False,
                location="Leeds",
                start_date="2027-03-01",
                end_date="2027-03-31",
                required_skills=[{"skill_id": "taskforce:sql", "min_level": 3}],
            ),
            "nurse": a_task(
                title="Night shift cover",
                kind="rotation",
                org_unit="Clinical",
                description="Ward 5 needs a python-free nurse",
                start_date="2027-02-01",
                end_date="2027-02-28",
                required_skills=[{"skill_id": "taskforce:nursing", "min_level": 2}],
            ),
        }
        for body in bodies.values():
            assert (await client.post("/v1/tasks", json=body, headers=manager)).status_code == 201

        async def titles(**params: object) -> list[str]:
            response = await client.get("/v1/tasks", params=params, headers=manager)
            assert response.status_code == 200, response.text
            return sorted(t["title"] for t in response.json()["items"])

        assert await titles(skill="taskforce:sql") == ["Warehouse tuning"]
        assert await titles(kind="rotation") == ["Night shift cover"]
        assert await titles(org_unit="Data", remote=False) == ["Warehouse tuning"]
        assert await titles(overlaps_from="2027-02-15", overlaps_to="2027-03-05") == [
            "Night shift cover",
            "Warehouse tuning",
        ]
        assert await titles(q="python") == ["Night shift cover", "Python dashboard"]
        assert await titles(q="100%_") == []
        assert (
            await client.get("/v1/tasks", params={"kind": "heist"}, headers=manager)
        ).status_code == 422


async def test_bulk_create_reports_each_line_and_creates_the_good_ones(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        lines = [
            json.dumps(a_task(title="one")),
            "{oops",
            json.dumps(a_task(title="two", seats=0)),
            json.dumps(
                a_task(
                    title="three",
                    required_skills=[{"skill_id": "taskforce:nothing", "min_level": 1}],
                )
            ),
            json.dumps(a_task(title="four")),
        ]
        tool = bearer(token_for("service", sub="project-tool")) | {
            "Content-Type": "application/x-ndjson"
        }
        response = await client.post(
            "/v1/tasks:bulk", content="\n".join(lines).encode(), headers=tool
        )
        assert response.status_code == 200, response.text
        assert [r["status"] for r in response.json()["results"]] == [
            "created",
            "error",
            "error",
            "error",
            "created",
        ]
        listed = await client.get("/v1/tasks", headers=tool)
        assert sorted(t["title"] for t in listed.json()["items"]) == ["four", "one"]
        worker = bearer(token_for("worker")) | {"Content-Type": "application/x-ndjson"}
        assert (
            await client.post("/v1/tasks:bulk", content=lines[0].encode(), headers=worker)
        ).status_code == 403


async def test_workers_see_company_work_and_their_own_units_only(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(CatalogSettings, database_url, key_file))
    async with client_of(app) as client:
        await seed_skills(app)
        owner = bearer(token_for("manager", sub="owner"))
        ids = {}
        for title, extra in (
            ("everyone", {}),
            ("clinical only", {"visibility": "org_unit", "org_unit": "Clinical"}),
            ("still draft", {}),
        ):
            task = (
                await client.post("/v1/tasks", json=a_task(title=title, **extra), headers=owner)
            ).json()
            ids[title] = task["id"]
            if title != "still draft":
                await client.post(f"/v1/tasks/{task['id']}:publish", headers=owner)
        from services.kernel.auth import mint_local_token
        from services.kernel.settings import KernelSettings

        def worker_in(unit: str) -> dict[str, str]:
            settings = KernelSettings(auth_local_key_file=key_file)
            return bearer(mint_local_token(settings, f"w-{unit}", ["worker"], org_unit=unit))

        async def visible(headers: dict[str, str]) -> list[str]:
            items = (await client.get("/v1/tasks", headers=headers)).json()["items"]
            return sorted(t["title"] for t in items)

        assert await visible(worker_in("Clinical")) == ["clinical only", "everyone"]
        assert await visible(worker_in("Finance")) == ["everyone"]
        hidden = await client.get(f"/v1/tasks/{ids['clinical only']}", headers=worker_in("Finance"))
        assert hidden.status_code == 404
        assert (
            await client.get(f"/v1/tasks/{ids['still draft']}", headers=worker_in("Clinical"))
        ).status_code == 404
        no_unit = await client.post(
            "/v1/tasks", headers=owner, json=a_task(visibility="org_unit", org_unit=None)
        )
        assert no_unit.status_code == 422
