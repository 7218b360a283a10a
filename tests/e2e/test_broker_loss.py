"""The embedded broker keeps everything in memory: writes made while it is down, and a restart
in the middle of a stream, still leave every read model in agreement with its source."""

import threading
import uuid

import pytest

from tests.builders import a_skill, a_task, a_worker
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e


def _versions(stack: Stack, service: str, sql: str) -> dict[str, int]:
    return {uuid.UUID(str(row[0])).hex: row[1] for row in stack.query(service, sql)}


def _agree(stack: Stack) -> bool:
    tasks = _versions(stack, "catalog", "SELECT id, version FROM task WHERE status != 'draft'")
    workers = _versions(stack, "profiles", "SELECT id, version FROM worker")
    return tasks == _versions(
        stack, "matching", "SELECT id, version FROM task_view"
    ) and workers == _versions(stack, "matching", "SELECT id, version FROM worker_view")


def _start_services(stack: Stack) -> None:
    for name in ("catalog", "profiles", "matching"):
        stack.start(name)


def test_writes_made_while_the_broker_is_down_reach_matching_once_it_is_back(stack: Stack) -> None:
    _start_services(stack)
    admin = stack.client("profiles", "admin")
    assert admin.post("/v1/skills", json=a_skill()).status_code == 201
    stack.wait_for_catalog_skills("taskforce:python")
    stack.kill_broker()

    manager = stack.client("catalog", "manager")
    for i in range(5):
        task = manager.post("/v1/tasks", json=a_task(title=f"offline {i}")).json()
        assert manager.post(f"/v1/tasks/{task['id']}:publish").status_code == 200
        assert admin.post("/v1/workers", json=a_worker(name=f"w{i}")).status_code == 201
    assert stack.query("catalog", "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL") == [
        (5,)
    ]

    stack.start_broker()
    eventually(
        lambda: (
            _agree(stack)
            and len(_versions(stack, "matching", "SELECT id, version FROM task_view")) == 5
        ),
        timeout_s=60,
        what="matching agrees with catalog and profiles",
    )
    assert len(_versions(stack, "matching", "SELECT id, version FROM worker_view")) == 5


def test_a_broker_restart_mid_stream_converges_every_read_model(stack: Stack) -> None:
    _start_services(stack)
    admin = stack.client("profiles", "admin")
    assert admin.post("/v1/skills", json=a_skill()).status_code == 201
    stack.wait_for_catalog_skills("taskforce:python")
    manager = stack.client("catalog", "manager")
    stop = threading.Event()
    failures: list[str] = []

    def write_stream() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                task = manager.post("/v1/tasks", json=a_task(title=f"stream {i}")).json()
                manager.post(f"/v1/tasks/{task['id']}:publish").raise_for_status()
                worker = admin.post("/v1/workers", json=a_worker(name=f"s{i}")).json()
                admin.put(
                    f"/v1/workers/{worker['id']}/skills",
                    json={"skills": [{"skill_id": "taskforce:python", "level": 1 + i % 5}]},
                ).raise_for_status()
            except Exception as exc:
                failures.append(repr(exc))

    writer = threading.Thread(target=write_stream)
    writer.start()
    try:
        eventually(
            lambda: len(_versions(stack, "matching", "SELECT id, version FROM task_view")) >= 5,
            what="the stream flows",
        )
        stack.kill_broker()
        stack.start_broker()
        eventually(
            lambda: len(_versions(stack, "matching", "SELECT id, version FROM task_view")) >= 15,
            timeout_s=60,
            what="the stream flows again",
        )
    finally:
        stop.set()
        writer.join()
    assert failures == []
    eventually(
        lambda: _agree(stack), timeout_s=60, what="matching agrees with catalog and profiles"
    )
