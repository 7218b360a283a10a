"""Interests against a real database: a worker shows and withdraws interest in open tasks, the
task's owner sees who asked (also on the shortlist), and a closed task or an erased worker
leaves none behind. Each change is announced once in the outbox; a refused one changes
nothing."""

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from services.kernel.contracts.catalog import TaskClosed, TaskUpdated
from services.kernel.contracts.profiles import SkillUpserted, WorkerErased
from services.kernel.outbox import OutboxMessage
from services.matching.interests_models import Interest
from services.matching.main import SPEC
from tests.integration.matching.test_assignments import (
    OWNER,
    PROBLEM,
    a_matching_app,
    a_task,
    a_worker,
    bearer,
    feed,
)

TOPIC = "matching.interests"


async def announced(app: FastAPI) -> list[tuple[str, str, str, str | None]]:
    """The interest events in the outbox, in order: (kind, worker id, task id, reason)."""
    async with app.state.db.sessions() as session:
        rows = await session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.topic == TOPIC)
            .order_by(OutboxMessage.position)
        )
        return [
            (
                r.event_type.split(".")[-2],
                r.payload["worker_id"],
                r.payload["task_id"],
                r.payload.get("reason"),
            )
            for r in rows
        ]


async def interest_rows(app: FastAPI) -> list[tuple[uuid.UUID, uuid.UUID]]:
    async with app.state.db.sessions() as session:
        rows = await session.scalars(sa.select(Interest))
        return [(r.worker_id, r.task_id) for r in rows]


def path(worker: Any, task: Any | None = None) -> str:
    base = f"/v1/workers/{worker.id}/interests"
    return f"{base}/{task.id}" if task is not None else base


async def test_a_worker_shows_interest_once_and_the_owner_sees_it_on_the_shortlist(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, ada, bob = a_task(), a_worker(name="Ada"), a_worker(name="Bob")
    as_ada = bearer(token_for("worker", worker_id=str(ada.id)))
    owner = bearer(token_for("manager", sub=OWNER))
    async with client_of(app) as client:
        await feed(app, task, ada, bob)
        first = await client.put(path(ada, task), headers=as_ada)
        assert first.status_code == 201, first.text
        body = first.json()
        assert (body["task_id"], body["title"], body["task_open"]) == (
            str(task.id),
            task.title,
            True,
        )
        again = await client.put(path(ada, task), headers=as_ada)
        assert again.status_code == 200
        assert again.json()["created_at"] == body["created_at"]
        assert await announced(app) == [("expressed", str(ada.id), str(task.id), None)]

        mine = (await client.get(path(ada), headers=as_ada)).json()
        assert [i["task_id"] for i in mine["items"]] == [str(task.id)]
        assert mine["next_cursor"] is None

        who = await client.get(f"/v1/tasks/{task.id}/interests", headers=owner)
        assert who.status_code == 200
        assert [(i["worker_id"], i["created_at"]) for i in who.json()["items"]] == [
            (str(ada.id), body["created_at"])
        ]
        shortlist = await client.get(f"/v1/tasks/{task.id}/candidates", headers=owner)
        assert shortlist.status_code == 200
        flags = {c["name"]: c["interested"] for c in shortlist.json()["items"]}
        assert flags == {"Ada": True, "Bob": False}
        verdict = await client.get(f"/v1/tasks/{task.id}/candidates/{ada.id}", headers=as_ada)
        assert verdict.json()["interested"] is True


async def test_withdrawing_is_idempotent_and_announced_once(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, ada = a_task(), a_worker()
    as_ada = bearer(token_for("worker", worker_id=str(ada.id)))
    async with client_of(app) as client:
        await feed(app, task, ada)
        assert (await client.put(path(ada, task), headers=as_ada)).status_code == 201
        for _ in range(2):
            gone = await client.delete(path(ada, task), headers=as_ada)
            assert gone.status_code == 204 and gone.content == b""
        assert await interest_rows(app) == []
        assert [kind for kind, *_ in await announced(app)] == ["expressed", "withdrawn"]
        assert (await client.get(path(ada), headers=as_ada)).json()["items"] == []
        # Shown again after a withdrawal, it is new again.
        assert (await client.put(path(ada, task), headers=as_ada)).status_code == 201


async def test_refused_interests_change_nothing(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    ada, bob = a_worker(), a_worker()
    open_task = a_task()
    draft = a_task(status="draft")
    own = a_task(owner_id=str(ada.id))
    owned_by_sub = a_task(owner_id="ada-sub")
    elsewhere = a_task(visibility="org_unit", org_unit="Finance")
    as_ada = bearer(token_for("worker", sub="ada-sub", worker_id=str(ada.id)))
    as_bob = bearer(token_for("worker", worker_id=str(bob.id)))
    a_manager = bearer(token_for("manager", sub=OWNER))
    async with client_of(app) as client:
        await feed(app, ada, bob, open_task, draft, own, owned_by_sub, elsewhere)
        refusals = [
            (path(ada, open_task), as_bob, 403, "interest-not-yours"),
            (path(ada, open_task), a_manager, 403, "interest-not-yours"),
            (f"/v1/workers/{ada.id}/interests/{uuid.uuid4()}", as_ada, 404, "task-not-open"),
            (path(ada, draft), as_ada, 404, "task-not-open"),
            (path(ada, elsewhere), as_ada, 404, "task-not-open"),
            (path(ada, own), as_ada, 409, "interest-not-allowed"),
            (path(ada, owned_by_sub), as_ada, 409, "interest-not-allowed"),
            (f"/v1/workers/{uuid.uuid4()}/interests/{open_task.id}", a_manager, 403, None),
            (f"/v1/workers/{ada.id}/interests/not-a-uuid", as_ada, 422, "validation"),
        ]
        for url, who, status, slug in refusals:
            answer = await client.put(url, headers=who)
            assert answer.status_code == status, (url, answer.text)
            assert answer.headers["content-type"] == PROBLEM
            if slug:
                assert answer.json()["type"].endswith(slug), answer.json()
        assert (await client.delete(path(ada, open_task), headers=as_bob)).status_code == 403
        assert (await client.get(path(ada), headers=as_bob)).status_code == 403
        assert (await client.get(path(ada), headers=a_manager)).status_code == 403
        seen = await client.get(f"/v1/tasks/{open_task.id}/interests", headers=as_bob)
        assert seen.status_code == 403 and seen.headers["content-type"] == PROBLEM
        unknown = await client.get(f"/v1/tasks/{uuid.uuid4()}/interests", headers=a_manager)
        assert unknown.status_code == 404
        assert await interest_rows(app) == []
        assert await announced(app) == []


async def test_an_admin_may_show_interest_for_a_worker_but_an_unknown_worker_is_refused(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, ada = a_task(), a_worker()
    admin = bearer(token_for("admin"))
    async with client_of(app) as client:
        await feed(app, task, ada)
        assert (await client.put(path(ada, task), headers=admin)).status_code == 201
        stranger = f"/v1/workers/{uuid.uuid4()}/interests/{task.id}"
        missing = await client.put(stranger, headers=admin)
        assert missing.status_code == 404 and missing.json()["type"].endswith("worker-not-known")
        assert await interest_rows(app) == [(ada.id, task.id)]


async def test_a_filled_task_stays_listed_as_not_open_and_a_closed_one_drops_out(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    filled, done, ada = a_task(), a_task(), a_worker()
    as_ada = bearer(token_for("worker", worker_id=str(ada.id)))
    async with client_of(app) as client:
        await feed(app, filled, done, ada)
        for task in (filled, done):
            assert (await client.put(path(ada, task), headers=as_ada)).status_code == 201
        await feed(
            app,
            TaskUpdated(**filled.model_dump() | {"status": "filled", "version": 3}),
            TaskClosed(**done.model_dump() | {"status": "completed", "version": 3}),
        )
        items = (await client.get(path(ada), headers=as_ada)).json()["items"]
        assert [(i["task_id"], i["task_status"], i["task_open"]) for i in items] == [
            (str(filled.id), "filled", False)
        ]
        assert (await announced(app))[-1] == ("withdrawn", str(ada.id), str(done.id), "task_closed")
        # Interest in a task that is not open cannot be shown afresh.
        refused = await client.put(path(ada, done), headers=as_ada)
        assert refused.status_code == 404


async def test_an_erased_workers_interests_disappear_and_are_announced_withdrawn(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, ada, bob = a_task(), a_worker(), a_worker()
    owner = bearer(token_for("manager", sub=OWNER))
    async with client_of(app) as client:
        await feed(app, task, ada, bob)
        for worker in (ada, bob):
            who = bearer(token_for("worker", worker_id=str(worker.id)))
            assert (await client.put(path(worker, task), headers=who)).status_code == 201
        await feed(app, WorkerErased(id=ada.id, version=ada.version + 1))
        assert await interest_rows(app) == [(bob.id, task.id)]
        assert (await announced(app))[-1] == (
            "withdrawn",
            str(ada.id),
            str(task.id),
            "worker_erased",
        )
        who = (await client.get(f"/v1/tasks/{task.id}/interests", headers=owner)).json()
        assert [i["worker_id"] for i in who["items"]] == [str(bob.id)]


async def test_a_workers_interests_page_with_an_opaque_cursor(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    ada = a_worker()
    tasks = [a_task(title=f"Task {n}") for n in range(3)]
    as_ada = bearer(token_for("worker", worker_id=str(ada.id)))
    async with client_of(app) as client:
        await feed(app, ada, *tasks)
        for task in tasks:
            assert (await client.put(path(ada, task), headers=as_ada)).status_code == 201
        first = (await client.get(path(ada), params={"limit": 2}, headers=as_ada)).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = await client.get(
            path(ada), params={"limit": 2, "cursor": first["next_cursor"]}, headers=as_ada
        )
        seen = [i["title"] for i in first["items"] + rest.json()["items"]]
        assert seen == ["Task 0", "Task 1", "Task 2"] and rest.json()["next_cursor"] is None
        forged = await client.get(path(ada), params={"cursor": "bm9wZQ"}, headers=as_ada)
        assert forged.status_code == 422 and forged.headers["content-type"] == PROBLEM


async def test_recommendations_say_which_tasks_the_worker_asked_for_with_skill_labels(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    asked, other, ada = a_task(title="Asked"), a_task(title="Other"), a_worker()
    python = SkillUpserted(id="taskforce:python", version=1, label="Python", source="test")
    as_ada = bearer(token_for("worker", worker_id=str(ada.id)))
    async with client_of(app) as client:
        await feed(app, python, asked, other, ada)
        assert (await client.put(path(ada, asked), headers=as_ada)).status_code == 201
        found = await client.get(f"/v1/workers/{ada.id}/recommendations", headers=as_ada)
        assert found.status_code == 200, found.text
        items = {i["title"]: i for i in found.json()["items"]}
        assert (items["Asked"]["interested"], items["Other"]["interested"]) == (True, False)
        assert items["Asked"]["skill_labels"] == {"taskforce:python": "Python"}


async def test_the_snapshot_republishes_every_current_interest(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, ada = a_task(), a_worker()
    as_ada = bearer(token_for("worker", worker_id=str(ada.id)))
    async with client_of(app) as client:
        await feed(app, task, ada)
        assert (await client.put(path(ada, task), headers=as_ada)).status_code == 201
        assert SPEC.snapshot is not None
        async with app.state.db.sessions() as session:
            await SPEC.snapshot(session)
            await session.commit()
        assert [kind for kind, *_ in await announced(app)] == ["expressed", "expressed"]
