"""Match runs against a real database: a run is accepted at once (202), executed by the worker
with the solve in a separate process, and leaves explained proposals that respect seats and
hours, beating the greedy choice where it matters. Cancelled, refused and interrupted runs
leave nothing half-done."""

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from services.kernel.events import Envelope, Event
from services.kernel.kafka import apply_record
from services.kernel.outbox import OutboxMessage
from services.matching.consumers import CONSUMERS
from services.matching.main import create_app
from services.matching.run_executor import claim_next_run, execute_run, requeue_interrupted
from services.matching.runs_models import MatchRun, Proposal
from services.matching.settings import MatchingSettings
from tests.builders import a_task_published, a_worker_upserted
from tests.integration.conftest import service_settings

MONDAY = date.today() + timedelta(days=7 - date.today().weekday())
PY = "taskforce:python"
SQL = "taskforce:sql"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def feed(app: FastAPI, *events: Event) -> None:
    for event in events:
        await apply_record(app.state.db, CONSUMERS[0], Envelope.wrap(event, "/test"))


def a_task(title: str, skills: list[dict[str, Any]], **overrides: Any) -> Any:
    return a_task_published(
        title=title,
        owner_id="owner-1",
        required_skills=skills,
        start_date=MONDAY,
        end_date=MONDAY + timedelta(days=11),
        **overrides,
    )


def a_worker(name: str, skills: dict[str, int], **overrides: Any) -> Any:
    return a_worker_upserted(
        name=name,
        skills=[{"skill_id": s, "level": level} for s, level in skills.items()],
        **overrides,
    )


async def run_queued(app: FastAPI) -> None:
    claimed = await claim_next_run(app.state.db)
    assert claimed is not None
    await execute_run(app.state.runtime, *claimed)


async def outbox_types(app: FastAPI) -> list[str]:
    async with app.state.db.sessions() as session:
        return list(await session.scalars(sa.select(OutboxMessage.event_type)))


async def test_a_run_proposes_the_best_whole_rather_than_the_greedy_first_choice(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(MatchingSettings, database_url, key_file))
    async with client_of(app) as client:
        # Ada is the best for both tasks but has hours for one; only she can do the SQL task.
        popular = a_task(
            "Popular", [{"skill_id": PY, "min_level": 2, "weight": 1.0}], hours_per_week=8
        )
        niche = a_task(
            "Niche",
            [
                {"skill_id": SQL, "min_level": 4, "weight": 1.0},
                {"skill_id": PY, "min_level": 1, "weight": 1.0},
            ],
            hours_per_week=8,
        )
        ada = a_worker("Ada", {PY: 5, SQL: 5}, weekly_hours=10)
        bob = a_worker("Bob", {PY: 2}, weekly_hours=10, aspirations=[])
        novice = a_worker("Novice", {PY: 1}, weekly_hours=40)
        await feed(app, popular, niche, ada, bob, novice)
        manager = bearer(token_for("manager", sub="owner-1"))

        asked = await client.post(
            "/v1/match-runs",
            json={"scope": {"all_open": True}, "time_limit_s": 10},
            headers=manager | {"Idempotency-Key": "run-1"},
        )
        assert asked.status_code == 202, asked.text
        assert asked.json()["status"] == "queued"
        location = asked.headers["Location"]
        again = await client.post(
            "/v1/match-runs",
            json={"scope": {"all_open": True}, "time_limit_s": 10},
            headers=manager | {"Idempotency-Key": "run-1"},
        )
        assert again.json()["id"] == asked.json()["id"]

        await run_queued(app)
        run = (await client.get(location, headers=manager)).json()
        assert run["status"] == "succeeded", run
        stats = run["statistics"]
        assert stats["tasks"] == 2 and stats["candidate_pairs"] == 3
        assert stats["objective"] >= stats["greedy_objective"]
        assert stats["objective"] <= stats["best_bound"] + 1e-9
        # The operator sees the same gap on /metrics (the alert on a solver far from optimal).
        registry = app.state.runtime.registry
        assert registry.get_sample_value("match_run_gap_ratio") == pytest.approx(
            stats["gap"], abs=1e-6
        )
        assert registry.get_sample_value("match_run_solve_seconds_count") == 1

        proposals = (await client.get(f"{location}/proposals", headers=manager)).json()["items"]
        chosen = {(p["task_id"], p["worker_id"]) for p in proposals}
        assert chosen == {(str(popular.id), str(bob.id)), (str(niche.id), str(ada.id))}
        first = proposals[0]["explanation"]
        assert set(first["components"]) == {"skill_fit", "learning", "preference", "availability"}
        assert first["hours"]["per_week"] == 8
        assert (await outbox_types(app)).count("taskforce.matching.run.completed.v1") == 1


async def test_a_queued_run_cancels_at_once_and_a_finished_one_refuses(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(MatchingSettings, database_url, key_file))
    async with client_of(app) as client:
        manager = bearer(token_for("manager"))
        asked = await client.post(
            "/v1/match-runs", json={"scope": {"org_unit": "eng"}}, headers=manager
        )
        run_id = asked.json()["id"]
        cancelled = await client.post(f"/v1/match-runs/{run_id}:cancel", headers=manager)
        assert cancelled.json()["status"] == "cancelled"
        again = await client.post(f"/v1/match-runs/{run_id}:cancel", headers=manager)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert await claim_next_run(app.state.db) is None
        assert await outbox_types(app) == ["taskforce.matching.run.completed.v1"]


async def test_bad_run_requests_are_refused_and_create_nothing(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(MatchingSettings, database_url, key_file))
    async with client_of(app) as client:
        manager = bearer(token_for("manager"))
        for body in (
            {"scope": {"all_open": True, "org_unit": "eng"}},
            {"scope": {}},
            {"scope": {"all_open": True}, "time_limit_s": 0},
            {
                "scope": {"all_open": True},
                "weights": {"skill_fit": 0, "learning": 0, "preference": 0, "availability": 0},
            },
            {"scope": {"all_open": True}, "fairness": {"max_proposals_per_worker": -1}},
        ):
            refused = await client.post("/v1/match-runs", json=body, headers=manager)
            assert refused.status_code == 422, body
            assert refused.headers["content-type"] == "application/problem+json"
        worker = bearer(token_for("worker", worker_id=str(uuid.uuid4())))
        forbidden = await client.post(
            "/v1/match-runs", json={"scope": {"all_open": True}}, headers=worker
        )
        assert forbidden.status_code == 403
        unknown = await client.get(f"/v1/match-runs/{uuid.uuid4()}", headers=manager)
        assert unknown.status_code == 404
        async with app.state.db.sessions() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == 0


async def test_a_run_a_crash_interrupted_runs_again_and_its_results_are_written_once(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = create_app(service_settings(MatchingSettings, database_url, key_file))
    async with client_of(app) as client:
        task = a_task("Only", [{"skill_id": PY, "min_level": 2, "weight": 1.0}], hours_per_week=4)
        await feed(app, task, a_worker("Ada", {PY: 3}, weekly_hours=10))
        manager = bearer(token_for("manager"))
        await client.post(
            "/v1/match-runs", json={"scope": {"task_ids": [str(task.id)]}}, headers=manager
        )
        stale = await claim_next_run(app.state.db)  # this attempt "dies" before finishing
        assert stale is not None
        assert await requeue_interrupted(app.state.db) == 1
        await run_queued(app)
        # The dead attempt, were it to wake up, may not write its results a second time.
        await execute_run(app.state.runtime, *stale)
        async with app.state.db.sessions() as session:
            proposals = await session.scalar(sa.select(sa.func.count()).select_from(Proposal))
            run = await session.scalar(sa.select(MatchRun))
        assert run is not None and (run.status, run.attempts, proposals) == ("succeeded", 2, 1)
        assert (await outbox_types(app)).count("taskforce.matching.run.completed.v1") == 1
