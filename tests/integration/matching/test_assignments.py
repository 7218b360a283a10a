"""Assignments against a real database: offers, the lifecycle and who may move it, the hours
ledger that acceptances fill, and the events each step stages in the outbox. A refused step
changes nothing."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from services.kernel.contracts.catalog import TaskClosed
from services.kernel.contracts.profiles import WorkerErased
from services.kernel.events import Envelope, Event
from services.kernel.kafka import apply_record
from services.kernel.outbox import OutboxMessage
from services.kernel.runtime import Runtime
from services.matching import assignments
from services.matching.assignments_models import Assignment
from services.matching.consumers import CONSUMERS
from services.matching.escalation import escalate_overdue_approvals
from services.matching.main import SPEC, create_app
from services.matching.runs_models import Proposal
from services.matching.scoring import iso_week_label
from services.matching.settings import MatchingSettings
from tests.builders import a_task_published, a_worker_upserted
from tests.integration.conftest import service_settings

OWNER = "owner-1"
BOSS = "boss-1"
PROBLEM = "application/problem+json"
# Next Monday, so that every task below lies in whole ISO weeks in the future.
MONDAY = date.today() + timedelta(days=7 - date.today().weekday())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def a_matching_app(database_url: str, key_file: Path) -> FastAPI:
    return create_app(service_settings(MatchingSettings, database_url, key_file))


async def feed(app: FastAPI, *events: Event) -> None:
    for event in events:
        assert await apply_record(app.state.db, CONSUMERS[0], Envelope.wrap(event, "/test"))


def a_task(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "owner_id": OWNER,
        "start_date": MONDAY,
        "end_date": MONDAY + timedelta(days=11),
    }
    return a_task_published(**(fields | overrides))


def a_worker(**overrides: Any) -> Any:
    return a_worker_upserted(**({"manager_id": BOSS, "weekly_hours": 16} | overrides))


async def announced(app: FastAPI) -> list[tuple[str, str | None, int]]:
    """The assignment events in the outbox, in order: (kind, status, version)."""
    async with app.state.db.sessions() as session:
        rows = await session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.topic == "matching.assignments")
            .order_by(OutboxMessage.position)
        )
        return [
            (r.event_type.split(".")[-2], r.payload.get("status"), r.payload["version"])
            for r in rows
        ]


async def stored(app: FastAPI, assignment_id: str) -> Assignment | None:
    async with app.state.db.sessions() as session:
        return await session.get(Assignment, uuid.UUID(assignment_id))


async def offer(client, task: Any, worker: Any, who: dict[str, str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    made = await client.post(
        "/v1/assignments", json={"task_id": str(task.id), "worker_id": str(worker.id)}, headers=who
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_an_assignment_goes_from_offer_to_completion_announcing_each_step_in_order(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    owner = bearer(token_for("manager", sub=OWNER))
    task = a_task(hours_per_week=10)
    worker = a_worker()
    as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
    boss = bearer(token_for("manager", sub=BOSS))
    async with client_of(app) as client:
        await feed(app, task, worker)
        made = await client.post(
            "/v1/assignments",
            json={"task_id": str(task.id), "worker_id": str(worker.id)},
            headers=owner,
        )
        assert made.status_code == 201, made.text
        offered = made.json()
        path = f"/v1/assignments/{offered['id']}"
        assert made.headers["location"] == path and made.headers["etag"] == '"1"'
        assert (offered["status"], offered["hours_per_week"], offered["offered_by"]) == (
            "offered",
            10,
            OWNER,
        )
        assert offered["start_date"] == MONDAY.isoformat()

        accepted = await client.post(f"{path}:accept", headers=as_worker)
        assert accepted.status_code == 200, accepted.text
        # Ten hours a week is above the automatic threshold: the line manager must approve.
        assert accepted.json()["status"] == "accepted"
        assert accepted.json()["approval_due_at"] is not None

        for who, status in ((as_worker, 200), (boss, 200), (owner, 200)):
            assert (await client.get(path, headers=who)).status_code == status
        stranger = bearer(token_for("manager", sub="someone-else"))
        seen = await client.get(path, headers=stranger)
        assert seen.status_code == 403 and seen.headers["content-type"] == PROBLEM

        approved = await client.post(f"{path}:approve", headers=boss)
        assert approved.status_code == 200, approved.text
        assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved", BOSS)
        started = await client.post(f"{path}:start", headers=owner)
        assert started.status_code == 200 and started.json()["status"] == "active"
        done = await client.post(
            f"{path}:complete",
            json={"skills": [{"skill_id": "taskforce:python", "endorsed_level": 4}]},
            headers=owner,
        )
        assert done.status_code == 200, done.text
        assert done.headers["etag"] == '"5"'
        assert done.json()["status"] == "completed"
        assert done.json()["completed_on"] == datetime.now(UTC).date().isoformat()

        assert await announced(app) == [
            ("updated", "offered", 1),
            ("updated", "accepted", 2),
            ("updated", "approved", 3),
            ("updated", "active", 4),
            ("updated", "completed", 5),
            ("completed", None, 5),
        ]
        async with app.state.db.sessions() as session:
            last = await session.scalar(
                sa.select(OutboxMessage).order_by(OutboxMessage.position.desc()).limit(1)
            )
        assert last is not None and last.key == offered["id"]
        assert last.payload["endorsed_by"] == OWNER
        assert last.payload["skills"] == [{"skill_id": "taskforce:python", "endorsed_level": 4}]
        assert last.payload["worker_id"] == str(worker.id)


async def test_a_commitment_under_the_threshold_is_approved_at_once(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker = a_task(hours_per_week=8), a_worker()
    async with client_of(app) as client:
        await feed(app, task, worker)
        made = await offer(client, task, worker, bearer(token_for("admin")))
        as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
        accepted = await client.post(f"/v1/assignments/{made['id']}:accept", headers=as_worker)
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert (body["status"], body["approved_by"], body["version"]) == ("approved", "auto", 3)
        assert body["approval_due_at"] is None and accepted.headers["etag"] == '"3"'
        assert await announced(app) == [
            ("updated", "offered", 1),
            ("updated", "accepted", 2),
            ("updated", "approved", 3),
        ]


async def test_an_approval_the_manager_leaves_unanswered_is_escalated_after_the_deadline(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker = a_task(hours_per_week=12), a_worker()
    async with client_of(app) as client:
        await feed(app, task, worker)
        made = await offer(client, task, worker, bearer(token_for("manager", sub=OWNER)))
        as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
        await client.post(f"/v1/assignments/{made['id']}:accept", headers=as_worker)
        soon = datetime.now(UTC) + timedelta(hours=71)
        async with app.state.db.sessions() as session:
            assert await escalate_overdue_approvals(session, soon) == 0
        assert (await stored(app, made["id"])).status == "accepted"  # type: ignore[union-attr]

        late = datetime.now(UTC) + timedelta(hours=73)
        async with app.state.db.sessions() as session:
            assert await escalate_overdue_approvals(session, late) == 1
        row = await stored(app, made["id"])
        assert row is not None
        assert (row.status, row.approved_by, row.approval_due_at) == (
            "approved",
            "escalation",
            None,
        )
        assert (await announced(app))[-1] == ("updated", "approved", 3)
        async with app.state.db.sessions() as session:
            assert await escalate_overdue_approvals(session, late) == 0  # once only


async def test_the_workers_escalation_loop_approves_what_is_overdue(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    settings = service_settings(MatchingSettings, database_url, key_file).model_copy(
        update={"approval_deadline_h": 0, "approval_check_interval_s": 0.05}
    )
    app = create_app(settings)
    task, worker = a_task(hours_per_week=12), a_worker()
    async with client_of(app) as client:
        await feed(app, task, worker)
        made = await offer(client, task, worker, bearer(token_for("manager", sub=OWNER)))
        as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
        await client.post(f"/v1/assignments/{made['id']}:accept", headers=as_worker)
        loop = next(b for b in SPEC.background if b.__name__ == "run_approval_escalation")
        running = asyncio.create_task(loop(Runtime(spec=SPEC, settings=settings, db=app.state.db)))
        try:
            for _ in range(100):
                row = await stored(app, made["id"])
                if row is not None and row.status == "approved":
                    break
                await asyncio.sleep(0.05)
        finally:
            running.cancel()
        assert row is not None and (row.status, row.approved_by) == ("approved", "escalation")


async def test_only_the_offered_worker_may_accept(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker, other = a_task(), a_worker(), a_worker(name="Grace")
    async with client_of(app) as client:
        await feed(app, task, worker, other)
        made = await offer(client, task, worker, bearer(token_for("manager", sub=OWNER)))
        accept = f"/v1/assignments/{made['id']}:accept"
        for who in (
            bearer(token_for("worker", worker_id=str(other.id))),
            bearer(token_for("manager", sub=OWNER)),
            bearer(token_for("admin")),
        ):
            refused = await client.post(accept, headers=who)
            assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
        row = await stored(app, made["id"])
        assert row is not None and (row.status, row.version) == ("offered", 1)
        assert await announced(app) == [("updated", "offered", 1)]


async def test_only_the_task_owner_completes_and_only_with_the_tasks_skills(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker = a_task(), a_worker()
    owner = bearer(token_for("manager", sub=OWNER))
    as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
    async with client_of(app) as client:
        await feed(app, task, worker)
        made = await offer(client, task, worker, owner)
        path = f"/v1/assignments/{made['id']}"
        await client.post(f"{path}:accept", headers=as_worker)
        assert (await client.post(f"{path}:start", headers=owner)).status_code == 200
        skills = {"skills": [{"skill_id": "taskforce:python"}]}
        for who in (as_worker, bearer(token_for("admin")), bearer(token_for("manager", sub=BOSS))):
            refused = await client.post(f"{path}:complete", json=skills, headers=who)
            assert refused.status_code == 403, refused.text
        foreign = await client.post(
            f"{path}:complete", json={"skills": [{"skill_id": "taskforce:cobol"}]}, headers=owner
        )
        assert foreign.status_code == 422 and foreign.headers["content-type"] == PROBLEM
        assert foreign.json()["errors"][0]["loc"] == ["body", "skills", "0", "skill_id"]
        assert (await stored(app, made["id"])).status == "active"  # type: ignore[union-attr]

        done = await client.post(f"{path}:complete", json=skills, headers=owner)
        assert done.status_code == 200 and done.json()["endorsed_skills"] == [
            {"skill_id": "taskforce:python", "endorsed_level": None}
        ]


async def test_an_acceptance_that_would_overfill_a_week_is_refused_and_changes_nothing(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    worker = a_worker(weekly_hours=8)
    first = a_task(hours_per_week=6)
    # Starts in the second week of the first task: that week would hold 10 h of 8.
    overlapping = a_task(hours_per_week=4, start_date=MONDAY + timedelta(days=7))
    later = a_task(hours_per_week=4, start_date=MONDAY + timedelta(days=2))
    owner = bearer(token_for("manager", sub=OWNER))
    as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
    async with client_of(app) as client:
        await feed(app, worker, first, overlapping, later)
        a = await offer(client, first, worker, owner)
        b = await offer(client, overlapping, worker, owner)
        assert (
            await client.post(f"/v1/assignments/{a['id']}:accept", headers=as_worker)
        ).is_success
        before = await announced(app)

        refused = await client.post(f"/v1/assignments/{b['id']}:accept", headers=as_worker)
        assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
        week = iso_week_label((MONDAY + timedelta(days=7) - date(1970, 1, 5)).days // 7)
        assert refused.json()["title"] == "Worker over capacity"
        assert f"{week} would have 10 h committed of 8 h available" in refused.json()["detail"]
        row = await stored(app, b["id"])
        assert row is not None and (row.status, row.version) == ("offered", 1)
        assert await announced(app) == before

        # A new offer is judged against the ledger too, and says why not.
        third = await client.post(
            "/v1/assignments",
            json={"task_id": str(later.id), "worker_id": str(worker.id)},
            headers=owner,
        )
        assert third.status_code == 409 and third.json()["title"] == "Worker not eligible"
        assert "has 2 h free in" in third.json()["detail"]


async def test_the_last_seat_cannot_be_taken_twice(
    database_url: str,
    key_file: Path,
    client_of: Callable,
    token_for: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each acceptance dawdles between counting the seats and committing, so that without the
    # row locks both would find the seat free and take it.
    count_seats = assignments._seats_held

    async def slow_count(session: Any, task_id: uuid.UUID) -> tuple[int, int]:
        counted = await count_seats(session, task_id)
        await asyncio.sleep(0.3)
        return counted

    monkeypatch.setattr(assignments, "_seats_held", slow_count)
    app = a_matching_app(database_url, key_file)
    task = a_task(seats=1)
    ada, grace = a_worker(), a_worker(name="Grace")
    owner = bearer(token_for("manager", sub=OWNER))
    async with client_of(app) as client:
        await feed(app, task, ada, grace)
        offers = [await offer(client, task, w, owner) for w in (ada, grace)]
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/v1/assignments/{made['id']}:accept",
                    headers=bearer(token_for("worker", worker_id=made["worker_id"])),
                )
                for made in offers
            )
        )
        assert sorted(a.status_code for a in answers) == [200, 409]
        loser = next(a for a in answers if a.status_code == 409)
        assert loser.json()["title"] == "No seat left"
        async with app.state.db.sessions() as session:
            holding = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Assignment)
                .where(Assignment.status.in_(("accepted", "approved")))
            )
        assert holding == 1
        assert [e for e in await announced(app) if e[1] == "accepted"] == [
            ("updated", "accepted", 2)
        ]


async def test_two_acceptances_at_once_cannot_both_take_the_last_hours(
    database_url: str,
    key_file: Path,
    client_of: Callable,
    token_for: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each acceptance dawdles between reading the ledger and committing.
    read_load = assignments.worker_load

    async def slow_load(session: Any, worker_id: uuid.UUID) -> Any:
        load = await read_load(session, worker_id)
        await asyncio.sleep(0.3)
        return load

    monkeypatch.setattr(assignments, "worker_load", slow_load)
    app = a_matching_app(database_url, key_file)
    worker = a_worker(weekly_hours=8)
    tasks = [a_task(hours_per_week=5), a_task(hours_per_week=5)]
    owner = bearer(token_for("manager", sub=OWNER))
    as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
    async with client_of(app) as client:
        await feed(app, worker, *tasks)
        offers = [await offer(client, task, worker, owner) for task in tasks]
        answers = await asyncio.gather(
            *(
                client.post(f"/v1/assignments/{made['id']}:accept", headers=as_worker)
                for made in offers
            )
        )
        assert sorted(a.status_code for a in answers) == [200, 409]
        ledger = await client.get(
            f"/v1/workers/{worker.id}/ledger", params={"from_date": str(MONDAY)}, headers=owner
        )
        assert ledger.json()["weeks"][0]["committed_hours"] == 5


async def test_a_move_the_status_does_not_allow_is_a_409_problem_and_changes_nothing(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker = a_task(), a_worker()
    owner = bearer(token_for("manager", sub=OWNER))
    as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
    async with client_of(app) as client:
        await feed(app, task, worker)
        made = await offer(client, task, worker, owner)
        path = f"/v1/assignments/{made['id']}"
        early = await client.post(f"{path}:start", headers=owner)
        assert early.status_code == 409 and early.headers["content-type"] == PROBLEM
        assert early.json()["type"].endswith("/assignment-not-allowed")
        assert "'offered'" in early.json()["detail"]
        withdrawn = await client.post(f"{path}:withdraw", headers=as_worker)
        assert withdrawn.status_code == 409

        declined = await client.post(f"{path}:decline", json={"reason": "busy"}, headers=as_worker)
        assert declined.status_code == 200 and declined.json()["reason"] == "busy"
        again = await client.post(f"{path}:accept", headers=as_worker)
        assert again.status_code == 409
        row = await stored(app, made["id"])
        assert row is not None and (row.status, row.version) == ("declined", 2)
        assert await announced(app) == [("updated", "offered", 1), ("updated", "declined", 2)]


async def test_a_stale_if_match_is_refused_with_412(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker = a_task(), a_worker()
    async with client_of(app) as client:
        await feed(app, task, worker)
        made = await offer(client, task, worker, bearer(token_for("manager", sub=OWNER)))
        as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
        accept = f"/v1/assignments/{made['id']}:accept"
        stale = await client.post(accept, headers=as_worker | {"If-Match": '"0"'})
        assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
        assert (await stored(app, made["id"])).status == "offered"  # type: ignore[union-attr]
        fresh = await client.post(accept, headers=as_worker | {"If-Match": '"1"'})
        assert fresh.status_code == 200


async def test_an_offer_replayed_with_its_idempotency_key_returns_the_same_assignment(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker = a_task(), a_worker()
    owner = bearer(token_for("manager", sub=OWNER)) | {"Idempotency-Key": "offer-1"}
    body = {"task_id": str(task.id), "worker_id": str(worker.id)}
    async with client_of(app) as client:
        await feed(app, task, worker)
        first = await client.post("/v1/assignments", json=body, headers=owner)
        second = await client.post("/v1/assignments", json=body, headers=owner)
        assert (first.status_code, second.status_code) == (201, 201)
        assert first.json()["id"] == second.json()["id"]
        assert second.headers["idempotent-replayed"] == "true"
        assert second.headers["location"] == first.headers["location"]
        assert await announced(app) == [("updated", "offered", 1)]
        # Without the key, a second offer of the same pair is a conflict, not a duplicate.
        plain = {"Authorization": owner["Authorization"]}
        dup = await client.post("/v1/assignments", json=body, headers=plain)
        assert dup.status_code == 409 and dup.json()["title"] == "Worker already has this task"


async def test_the_ledger_shows_each_weeks_capacity_commitments_and_remainder(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    worker = a_worker(weekly_hours=8)
    two_weeks = a_task(hours_per_week=4, end_date=MONDAY + timedelta(days=11))
    next_two = a_task(
        hours_per_week=3,
        start_date=MONDAY + timedelta(days=7),
        end_date=MONDAY + timedelta(days=18),
    )
    offered_only = a_task(hours_per_week=1)
    owner = bearer(token_for("manager", sub=OWNER))
    as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
    async with client_of(app) as client:
        await feed(app, worker, two_weeks, next_two, offered_only)
        a = await offer(client, two_weeks, worker, owner)
        b = await offer(client, next_two, worker, owner)
        await offer(client, offered_only, worker, owner)  # an offer commits no hours
        for made in (a, b):
            await client.post(f"/v1/assignments/{made['id']}:accept", headers=as_worker)

        ledger = f"/v1/workers/{worker.id}/ledger"
        read = await client.get(
            ledger, params={"from_date": str(MONDAY), "weeks": 4}, headers=as_worker
        )
        assert read.status_code == 200, read.text
        body = read.json()
        assert (body["worker_id"], body["weekly_hours"]) == (str(worker.id), 8)
        weeks = [
            (w["week_start"], w["capacity_hours"], w["committed_hours"], w["remaining_hours"])
            for w in body["weeks"]
        ]
        starts = [str(MONDAY + timedelta(days=7 * i)) for i in range(4)]
        assert weeks == [
            (starts[0], 8, 4, 4),
            (starts[1], 8, 7, 1),
            (starts[2], 8, 3, 5),
            (starts[3], 8, 0, 8),
        ]
        year, number, _ = MONDAY.isocalendar()
        assert body["weeks"][0]["week"] == f"{year}-W{number:02d}"
        assert [x["assignment_id"] for x in body["weeks"][1]["assignments"]] == [a["id"], b["id"]]
        assert body["weeks"][1]["assignments"][1] == {
            "assignment_id": b["id"],
            "task_id": str(next_two.id),
            "hours": 3,
        }
        default = await client.get(ledger, headers=as_worker)
        assert len(default.json()["weeks"]) == 12

        line_manager = bearer(token_for("worker", sub=BOSS))
        assert (await client.get(ledger, headers=line_manager)).status_code == 200
        peer = bearer(token_for("worker", worker_id=str(uuid.uuid4())))
        assert (await client.get(ledger, headers=peer)).status_code == 403
        assert (await client.get(ledger, params={"weeks": 105}, headers=owner)).status_code == 422
        unknown = await client.get(f"/v1/workers/{uuid.uuid4()}/ledger", headers=owner)
        assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM


async def test_erasing_a_worker_removes_their_proposals_and_assignments_and_frees_seats(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, declined_task, worker = a_task(), a_task(), a_worker()
    owner = bearer(token_for("manager", sub=OWNER))
    as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
    run_id = uuid.uuid4()
    async with client_of(app) as client:
        await feed(app, task, declined_task, worker)
        async with app.state.db.sessions() as session:
            proposal = Proposal(
                run_id=run_id,
                task_id=task.id,
                worker_id=worker.id,
                score=0.77,
                learning_seat=False,
                explanation={},
            )
            session.add(proposal)
            await session.commit()
        made = await client.post(
            "/v1/assignments", json={"proposal_id": str(proposal.id)}, headers=owner
        )
        assert made.status_code == 201, made.text
        assert (made.json()["match_run_id"], made.json()["score"]) == (str(run_id), 0.77)
        again = await client.post(
            "/v1/assignments", json={"proposal_id": str(proposal.id)}, headers=owner
        )
        assert again.status_code == 409
        await client.post(f"/v1/assignments/{made.json()['id']}:accept", headers=as_worker)
        other = await offer(client, declined_task, worker, owner)
        await client.post(f"/v1/assignments/{other['id']}:decline", headers=as_worker)
        before = len(await announced(app))

        await feed(app, WorkerErased(id=worker.id, version=2))

        after = await announced(app)
        # Only the live assignment is announced as cancelled; the declined one needs nothing.
        assert after[before:] == [("updated", "cancelled", 4)]
        async with app.state.db.sessions() as session:
            for table in (Assignment, Proposal):
                left = await session.scalar(sa.select(sa.func.count()).select_from(table))
                assert left == 0, table
        gone = await client.get(f"/v1/workers/{worker.id}/ledger", headers=owner)
        assert gone.status_code == 404


async def test_a_cancelled_task_cancels_its_live_assignments(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker = a_task(), a_worker()
    async with client_of(app) as client:
        await feed(app, task, worker)
        made = await offer(client, task, worker, bearer(token_for("manager", sub=OWNER)))
        as_worker = bearer(token_for("worker", worker_id=str(worker.id)))
        await client.post(f"/v1/assignments/{made['id']}:accept", headers=as_worker)
        closed = TaskClosed(**task.model_dump() | {"status": "cancelled", "version": 3})
        await feed(app, closed)
        row = await stored(app, made["id"])
        assert row is not None and (row.status, row.reason) == (
            "cancelled",
            "the task was cancelled",
        )
        assert (await announced(app))[-1] == ("updated", "cancelled", 4)
        ledger = await client.get(
            f"/v1/workers/{worker.id}/ledger", params={"from_date": str(MONDAY)}, headers=as_worker
        )
        assert ledger.json()["weeks"][0]["committed_hours"] == 0


async def test_lists_show_each_caller_only_what_concerns_them_a_page_at_a_time(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    mine, theirs = a_task(), a_task(owner_id="owner-2")
    ada, grace = a_worker(), a_worker(name="Grace", manager_id="boss-2")
    admin = bearer(token_for("admin"))
    async with client_of(app) as client:
        await feed(app, mine, theirs, ada, grace)
        made = [await offer(client, t, w, admin) for t in (mine, theirs) for w in (ada, grace)]

        async def ids(who: dict[str, str], **params: Any) -> set[str]:
            answer = await client.get("/v1/assignments", params=params, headers=who)
            assert answer.status_code == 200, answer.text
            return {a["id"] for a in answer.json()["items"]}

        by = {(a["task_id"], a["worker_id"]): a["id"] for a in made}
        as_ada = bearer(token_for("worker", worker_id=str(ada.id)))
        assert await ids(as_ada) == {
            by[(str(mine.id), str(ada.id))],
            by[(str(theirs.id), str(ada.id))],
        }
        owner = bearer(token_for("manager", sub=OWNER))
        assert await ids(owner) == {
            by[(str(mine.id), str(ada.id))],
            by[(str(mine.id), str(grace.id))],
        }
        line_manager = bearer(token_for("manager", sub=BOSS))
        assert await ids(line_manager) == {
            by[(str(mine.id), str(ada.id))],
            by[(str(theirs.id), str(ada.id))],
        }
        assert len(await ids(admin)) == 4
        assert await ids(admin, task_id=str(theirs.id), worker_id=str(grace.id)) == {
            by[(str(theirs.id), str(grace.id))]
        }
        assert await ids(admin, status="accepted") == set()

        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/assignments", params=params, headers=admin)).json()
            seen += [a["id"] for a in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert sorted(seen) == sorted(by.values()) and len(seen) == 4


async def test_bad_requests_are_4xx_problems_and_create_nothing(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = a_matching_app(database_url, key_file)
    task, worker = a_task(), a_worker()
    novice = a_worker(skills=[{"skill_id": "taskforce:python", "level": 1}])
    owner = bearer(token_for("manager", sub=OWNER))
    async with client_of(app) as client:
        await feed(app, task, worker, novice)
        cases: list[tuple[dict[str, Any], dict[str, str], int]] = [
            ({"task_id": str(uuid.uuid4()), "worker_id": str(worker.id)}, owner, 404),
            ({"task_id": str(task.id), "worker_id": str(uuid.uuid4())}, owner, 404),
            ({"task_id": str(task.id)}, owner, 422),
            (
                {
                    "task_id": str(task.id),
                    "worker_id": str(worker.id),
                    "proposal_id": str(uuid.uuid4()),
                },
                owner,
                422,
            ),
            ({}, owner, 422),
            ({"task_id": "not-a-uuid", "worker_id": str(worker.id)}, owner, 422),
            ({"proposal_id": str(uuid.uuid4())}, owner, 404),
            (
                {"task_id": str(task.id), "worker_id": str(worker.id)},
                bearer(token_for("manager", sub="not-the-owner")),
                403,
            ),
            (
                {"task_id": str(task.id), "worker_id": str(worker.id)},
                bearer(token_for("worker", worker_id=str(worker.id))),
                403,
            ),
        ]
        for body, who, status in cases:
            answer = await client.post("/v1/assignments", json=body, headers=who)
            assert answer.status_code == status, (body, answer.text)
            assert answer.headers["content-type"] == PROBLEM
        unqualified = await client.post(
            "/v1/assignments",
            json={"task_id": str(task.id), "worker_id": str(novice.id)},
            headers=owner,
        )
        assert unqualified.status_code == 409
        assert "lacks must-have skills at level" in unqualified.json()["detail"]
        assert (await client.post("/v1/assignments", json={})).status_code == 401

        unknown = await client.post(f"/v1/assignments/{uuid.uuid4()}:cancel", headers=owner)
        assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
        assert (await client.get("/v1/assignments/not-a-uuid", headers=owner)).status_code == 422
        assert (
            await client.get("/v1/assignments", params={"status": "lost"}, headers=owner)
        ).status_code == 422
        made = await offer(client, task, worker, owner)
        too_long = await client.post(
            f"/v1/assignments/{made['id']}:cancel", json={"reason": "x" * 501}, headers=owner
        )
        assert too_long.status_code == 422
        assert await announced(app) == [("updated", "offered", 1)]
        cancelled = await client.post(
            f"/v1/assignments/{made['id']}:cancel", json={"reason": "plans changed"}, headers=owner
        )
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
