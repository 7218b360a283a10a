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


class Disagreement(str):
    """What matching's read models lack or hold differently; empty (falsy) when they agree."""


def _differences(source: dict[str, int], copy: dict[str, int]) -> str:
    missing = sorted(set(source) - set(copy))
    stale = sorted(k for k in source if k in copy and copy[k] != source[k])
    extra = sorted(set(copy) - set(source))
    parts = [
        f"{len(missing)} missing",
        f"{len(stale)} at another version",
        f"{len(extra)} unknown to the source",
    ]
    return "" if not (missing or stale or extra) else ", ".join(parts)


def _disagreement(stack: Stack) -> Disagreement:
    tasks = _differences(
        _versions(stack, "catalog", "SELECT id, version FROM task WHERE status != 'draft'"),
        _versions(stack, "matching", "SELECT id, version FROM task_view"),
    )
    workers = _differences(
        _versions(stack, "profiles", "SELECT id, version FROM worker"),
        _versions(stack, "matching", "SELECT id, version FROM worker_view"),
    )
    text = "; ".join(
        f"{what}: {diff}" for what, diff in (("tasks", tasks), ("workers", workers)) if diff
    )
    return Disagreement(text)


def _wait_until_matching_agrees(stack: Stack, timeout_s: float = 60) -> None:
    try:
        eventually(
            lambda: not _disagreement(stack),
            timeout_s=timeout_s,
            what="matching agrees with catalog and profiles",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {_disagreement(stack)}") from None


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
    _wait_until_matching_agrees(stack)
    assert len(_versions(stack, "matching", "SELECT id, version FROM task_view")) == 5
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
    _wait_until_matching_agrees(stack)


async def test_after_a_broker_loss_consumers_read_new_logs_from_their_start(
    stack: Stack, tmp_path
) -> None:
    """A consumer's positions survive in memory when the broker loses everything. If the new
    logs are already longer than those positions, only a rewind reads their start."""
    import asyncio

    from aiokafka import AIOKafkaProducer

    from services.kernel.db import migrate_async, open_database
    from services.kernel.events import Envelope, to_kafka
    from services.kernel.kafka import BrokerEpoch, run_consumer
    from services.kernel.settings import KernelSettings
    from services.matching.consumers import CONSUMERS
    from services.matching.main import SPEC
    from tests.builders import a_task_published

    url = f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}"
    await migrate_async(SPEC.migrations_dir, url)
    db = open_database(url)
    settings = KernelSettings(
        service_name="matching",
        kafka_bootstrap_servers=f"127.0.0.1:{stack.broker_port}",
        kafka_session_timeout_ms=3000,
        kafka_heartbeat_interval_ms=500,
        kafka_metadata_max_age_ms=1000,
    )

    async def publish(count: int) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            for _ in range(count):
                event = a_task_published()
                _, value, headers = to_kafka(Envelope.wrap(event, "/test"))
                # One key, one partition: the positions to outrun are on it.
                await producer.send_and_wait(
                    "catalog.tasks", value=value, key=b"same", headers=headers
                )
        finally:
            await producer.stop()

    async def tasks_known() -> int:
        async with db.sessions() as session:
            import sqlalchemy as sa

            return int(await session.scalar(sa.text("SELECT count(*) FROM task_view")))

    async def until(count: int, timeout_s: float = 40) -> None:
        for _ in range(int(timeout_s * 10)):
            if await tasks_known() >= count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{await tasks_known()} of {count} tasks reached matching")

    epoch = BrokerEpoch()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    consumer = asyncio.create_task(run_consumer(db, CONSUMERS[0], producer, settings, None, epoch))
    try:
        await publish(3)
        await until(3)
        stack.kill_broker()
        await asyncio.to_thread(stack.start_broker)
        # The new log outgrows the old position (3) before anyone notices the loss.
        await publish(10)
        await asyncio.sleep(2)
        epoch.value += 1  # what the broker watch does when it finds the loss
        await until(13)
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        await producer.stop()
        await db.dispose()
