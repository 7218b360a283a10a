"""The first vertical slice through the gateway: a task and a worker go from their owners,
through the outbox and the broker, into matching's read model."""

import httpx
import pytest

from tests.builders import a_skill, a_task, a_worker
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e


def test_a_published_task_and_a_new_worker_reach_matching_through_the_gateway(stack: Stack) -> None:
    for name in ("catalog", "profiles", "matching", "gateway"):
        stack.start(name)
    admin = stack.client("gateway", "admin")
    manager = stack.client("gateway", "manager", sub="manager-1")
    hris = stack.client("gateway", "service")

    assert admin.post("/v1/skills", json=a_skill()).status_code == 201
    stack.wait_for_catalog_skills("taskforce:python")
    worker = hris.post("/v1/workers", json=a_worker()).json()
    task = manager.post("/v1/tasks", json=a_task()).json()
    assert task["status"] == "draft"

    candidates = f"/v1/tasks/{task['id']}/candidates"
    unknown = manager.get(candidates)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"

    assert manager.post(f"/v1/tasks/{task['id']}:publish").status_code == 200
    # The task and the worker travel on different topics, so either may reach matching first.
    shortlist = eventually(
        lambda: (r := manager.get(candidates)).status_code == 200 and r.json()["items"] and r,
        what="matching knows the task and the worker",
    )
    assert [c["worker_id"] for c in shortlist.json()["items"]] == [worker["id"]]

    recommendations = f"/v1/workers/{worker['id']}/recommendations"
    # The shortlist reads the task from matching's table; recommendations come from the index,
    # which follows the tables a moment later.
    found = eventually(
        lambda: (r := manager.get(recommendations)).status_code == 200 and r.json()["items"] and r,
        what="matching's index holds the worker and the task",
    )
    assert [r["task_id"] for r in found.json()["items"]] == [task["id"]]


def test_the_gateway_answers_503_for_a_service_that_is_down_and_merges_openapi(
    stack: Stack,
) -> None:
    for name in ("catalog", "profiles", "matching", "gateway"):
        stack.start(name)
    spec = httpx.get(f"{stack.url('gateway')}/openapi.json", timeout=10).json()
    for path in (
        "/v1/tasks",
        "/v1/tasks/{task_id}:publish",
        "/v1/workers",
        "/v1/skills",
        "/v1/tasks/{task_id}/candidates",
    ):
        assert path in spec["paths"], path
    stack.kill("matching")
    manager = stack.client("gateway", "manager")
    down = manager.get("/v1/tasks/00000000-0000-0000-0000-000000000001/candidates")
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert manager.get("/v1/tasks").status_code == 200
