"""An assignment's whole life through the gateway, with real processes and the real broker:
matching's events fill the catalog's seats and give profiles the skill evidence."""

from datetime import UTC, datetime

import httpx
import pytest

from tests.builders import a_skill, a_task, a_worker
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e


def as_worker(stack: Stack, worker_id: str) -> httpx.Client:
    token = stack.token("worker", sub="ada", worker_id=worker_id)
    return httpx.Client(
        base_url=stack.url("gateway"), timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


def test_offer_accept_approve_start_complete_fills_the_seat_and_records_the_skill(
    stack: Stack,
) -> None:
    for name in ("catalog", "profiles", "matching", "gateway"):
        stack.start(name)
    admin = stack.client("gateway", "admin")
    owner = stack.client("gateway", "manager", sub="manager-1")
    boss = stack.client("gateway", "manager", sub="boss-1")
    hris = stack.client("gateway", "service")

    assert admin.post("/v1/skills", json=a_skill()).status_code == 201
    stack.wait_for_catalog_skills("taskforce:python")
    worker = hris.post("/v1/workers", json=a_worker(manager_id="boss-1", weekly_hours=16)).json()
    # Ten hours a week: above the automatic threshold, so the line manager approves.
    task = owner.post("/v1/tasks", json=a_task(hours_per_week=10, seats=1)).json()
    assert owner.post(f"/v1/tasks/{task['id']}:publish").status_code == 200
    ada = as_worker(stack, worker["id"])

    pair = {"task_id": task["id"], "worker_id": worker["id"]}
    offered = eventually(
        lambda: (r := owner.post("/v1/assignments", json=pair)).status_code == 201 and r,
        what="matching knows the task and the worker and accepts the offer",
    ).json()
    path = f"/v1/assignments/{offered['id']}"

    accepted = ada.post(f"{path}:accept", headers={"If-Match": '"1"'})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    ledger = ada.get(f"/v1/workers/{worker['id']}/ledger", params={"from_date": task["start_date"]})
    assert ledger.status_code == 200
    assert ledger.json()["weeks"][0]["committed_hours"] == 10
    assert ledger.json()["weeks"][0]["remaining_hours"] == 6

    assert boss.post(f"{path}:approve").json()["status"] == "approved"
    # The seat is held from acceptance on: the catalog's only seat is filled.
    filled = eventually(
        lambda: (t := owner.get(f"/v1/tasks/{task['id']}").json())["status"] == "filled" and t,
        what="the catalog counts the held seat",
    )
    assert filled["seats_filled"] == 1

    assert owner.post(f"{path}:start").json()["status"] == "active"
    done = owner.post(
        f"{path}:complete",
        json={"skills": [{"skill_id": "taskforce:python", "endorsed_level": 5}]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"

    def earned() -> dict | None:
        skills = hris.get(f"/v1/workers/{worker['id']}").json()["skills"]
        python = next(s for s in skills if s["skill_id"] == "taskforce:python")
        return python if python["level"] == 5 else None

    python = eventually(earned, what="profiles records the endorsed skill")
    assert python["source"] == "earned"
    assert python["last_used_at"].startswith(datetime.now(UTC).date().isoformat())
    evidence = eventually(
        lambda: stack.query(
            "profiles",
            "SELECT assignment_id, endorsed_level, endorsed_by FROM skill_evidence",
        ),
        what="the evidence row",
    )
    assert [(str(e[0]).replace("-", ""), e[1], e[2]) for e in evidence] == [
        (offered["id"].replace("-", ""), 5, "manager-1")
    ]
    # A completed assignment still holds its seat.
    assert owner.get(f"/v1/tasks/{task['id']}").json()["seats_filled"] == 1
