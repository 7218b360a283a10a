"""A match run through the gateway with real processes and the real broker: asked for (202),
solved by matching's worker off its event loop, its proposals offered and accepted, and an
erased worker gone from every proposal."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.builders import a_skill, a_task, a_worker
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e
PYTHON = "taskforce:python"


def test_a_run_proposes_staff_for_open_work_and_a_proposal_becomes_an_offer(stack: Stack) -> None:
    for name in ("catalog", "profiles", "matching", "gateway"):
        stack.start(name)
    admin = stack.client("gateway", "admin")
    owner = stack.client("gateway", "manager", sub="manager-1")
    hris = stack.client("gateway", "service")
    assert admin.post("/v1/skills", json=a_skill()).status_code == 201
    stack.wait_for_catalog_skills(PYTHON)

    workers = [
        hris.post("/v1/workers", json=a_worker(name=f"Worker {n}", weekly_hours=20)).json()
        for n in range(3)
    ]
    tasks = []
    for n in range(2):
        task = owner.post("/v1/tasks", json=a_task(title=f"Task {n}", seats=1)).json()
        assert owner.post(f"/v1/tasks/{task['id']}:publish").status_code == 200
        tasks.append(task)
    wanted = {t["id"] for t in tasks}
    # Every worker must have reached matching, not just one: with one, the cap of one proposal
    # per worker could staff only one task.
    everyone = {w["id"] for w in workers}
    eventually(
        lambda: all(
            {c["worker_id"] for c in owner.get(f"/v1/tasks/{t}/candidates").json().get("items", [])}
            == everyone
            for t in wanted
        ),
        what="matching knows the tasks and all their candidates",
    )

    # With a cap of one proposal per worker, the work spreads over two people.
    asked = owner.post(
        "/v1/match-runs",
        json={"scope": {"task_ids": sorted(wanted)}, "fairness": {"max_proposals_per_worker": 1}},
    )
    assert asked.status_code == 202, asked.text
    location = asked.headers["Location"]
    run = eventually(
        lambda: (r := owner.get(location).json())["status"] in ("succeeded", "failed") and r,
        what="the run finishes",
        timeout_s=60,
    )
    assert run["status"] == "succeeded", run
    assert run["statistics"]["solver_status"] == "OPTIMAL"
    proposals = owner.get(f"{location}/proposals").json()["items"]
    assert {p["task_id"] for p in proposals} == wanted
    assert len({p["worker_id"] for p in proposals}) == 2
    assert all(p["explanation"]["matched"] for p in proposals)

    offered = owner.post("/v1/assignments", json={"proposal_id": proposals[0]["id"]})
    assert offered.status_code == 201, offered.text
    worker_id = proposals[0]["worker_id"]
    token = stack.token("worker", sub="w", worker_id=worker_id)
    with httpx.Client(
        base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as worker:
        accepted = worker.post(f"/v1/assignments/{offered.json()['id']}:accept")
    assert accepted.status_code == 200, accepted.text

    # The other proposed worker asks to be forgotten: their proposal disappears.
    other = proposals[1]["worker_id"]
    assert admin.delete(f"/v1/workers/{other}").status_code == 204
    eventually(
        lambda: (
            other
            not in {p["worker_id"] for p in owner.get(f"{location}/proposals").json()["items"]}
        ),
        what="matching forgets the erased worker's proposal",
    )
    assert any(w["id"] == other for w in workers)


def test_the_match_command_follows_a_run_to_its_summary(stack: Stack) -> None:
    for name in ("catalog", "profiles", "matching", "gateway"):
        stack.start(name)
    admin = stack.client("gateway", "admin")
    owner = stack.client("gateway", "manager", sub="manager-1")
    assert admin.post("/v1/skills", json=a_skill()).status_code == 201
    stack.wait_for_catalog_skills(PYTHON)
    stack.client("gateway", "service").post("/v1/workers", json=a_worker())
    task = owner.post("/v1/tasks", json=a_task()).json()
    owner.post(f"/v1/tasks/{task['id']}:publish")
    eventually(
        lambda: owner.get(f"/v1/tasks/{task['id']}/candidates").json().get("items"),
        what="matching knows the task and its candidate",
    )
    done = subprocess.run(
        [str(Path(sys.executable).with_name("taskforce")), "match", "--task", task["id"]],
        env=os.environ
        | {"TASKFORCE_URL": stack.url("gateway"), "TASKFORCE_TOKEN": stack.token("admin")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 tasks, 1 workers" in done.stdout and "OPTIMAL" in done.stdout
