"""Event pipeline benchmark: tasks created and published through catalog's API, relayed by the
outbox over the embedded broker into matching's read model. Measures API throughput, the lag
from a publish response to matching's commit, and each process's memory."""

import asyncio
import sqlite3
import statistics
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.machine import rss_mib
from services.kernel.auth import mint_local_token
from services.kernel.settings import KernelSettings
from taskforce.stack import (
    PORT_OFFSETS,
    check_ports_free,
    service_env,
    start_broker,
    start_service,
    stop_all,
    wait_broker_ready,
    wait_ready,
)

# Below Linux's ephemeral range (32768-60999), where outgoing connections never take them.
BASE_PORT, BROKER_PORT = 28080, 28092


def _task(i: int) -> dict:
    start = datetime.now(UTC).date() + timedelta(days=7)
    return {
        "title": f"bench task {i}",
        "required_skills": [{"skill_id": "taskforce:python", "min_level": 1 + i % 4}],
        "hours_per_week": 4,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=30)).isoformat(),
    }


async def _publish_all(
    url: str, token: str, count: int, concurrency: int
) -> tuple[dict[str, float], list[float]]:
    published: dict[str, float] = {}
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:

        async def one(i: int) -> None:
            async with gate:
                started = time.perf_counter()
                task = (await client.post("/v1/tasks", json=_task(i))).raise_for_status().json()
                (await client.post(f"/v1/tasks/{task['id']}:publish")).raise_for_status()
                latencies.append(time.perf_counter() - started)
                published[uuid.UUID(task["id"]).hex] = time.time()

        await asyncio.gather(*(one(i) for i in range(count)))
    return published, latencies


async def _announce_skill(broker_port: int, skill_id: str) -> None:
    """What profiles does when a skill is created: the catalog validates against its copy."""
    from aiokafka import AIOKafkaProducer

    from services.kernel.contracts.profiles import SkillUpserted
    from services.kernel.events import Envelope, to_kafka

    event = SkillUpserted(id=skill_id, version=1, label="Python", source="benchmark")
    key, value, headers = to_kafka(Envelope.wrap(event, "/benchmark"))
    producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{broker_port}")
    await producer.start()
    try:
        await producer.send_and_wait(event.topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def _wait_for_skill(var: Path, skill_id: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(var / "catalog.db")) as db:
            if db.execute("SELECT 1 FROM skill_ref WHERE id = ?", (skill_id,)).fetchone():
                return
        time.sleep(0.2)
    raise SystemExit(f"bench: the catalog never learnt {skill_id}")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(count: int = 1000, concurrency: int = 8) -> list[tuple[str, str]]:
    busy = check_ports_free([BASE_PORT + o for o in PORT_OFFSETS.values()] + [BROKER_PORT])
    if busy:
        raise SystemExit(f"bench: ports in use: {busy}")
    var = Path(tempfile.mkdtemp(prefix="taskforce-bench-"))
    log = var / "log"
    processes = [start_broker(BROKER_PORT, log)]
    try:
        wait_broker_ready(BROKER_PORT, 30, processes[0])
        services = {}
        for name in ("catalog", "matching"):
            env = service_env(name, var, BASE_PORT, BROKER_PORT) | {
                "TASKFORCE_LOG_LEVEL": "WARNING"
            }
            services[name] = start_service(name, env, log)
            processes.append(services[name])
        for name, process in services.items():
            wait_ready(f"http://127.0.0.1:{BASE_PORT + PORT_OFFSETS[name]}", 60, process)
        asyncio.run(_announce_skill(BROKER_PORT, "taskforce:python"))
        _wait_for_skill(var, "taskforce:python")
        time.sleep(3)  # let matching's consumer join its group before the clock starts
        before = {name: rss_mib(p.pid) for name, p in services.items()}
        token = mint_local_token(
            KernelSettings(auth_local_key_file=var / "dev-signing.key"), "bench", ["manager"]
        )
        started = time.perf_counter()
        published, latencies = asyncio.run(
            _publish_all(
                f"http://127.0.0.1:{BASE_PORT + PORT_OFFSETS['catalog']}", token, count, concurrency
            )
        )
        write_s = time.perf_counter() - started
        deadline = time.monotonic() + 120
        synced: dict[str, float] = {}
        while len(synced) < count and time.monotonic() < deadline:
            with closing(sqlite3.connect(var / "matching.db")) as db:
                rows = db.execute("SELECT id, synced_at FROM task_view").fetchall()
            synced = {
                row[0]: datetime.fromisoformat(row[1]).replace(tzinfo=UTC).timestamp()
                for row in rows
            }
            time.sleep(0.1)
        drained_s = time.perf_counter() - started
        lags = [max(0.0, synced[k] - published[k]) for k in published if k in synced]
        after = {name: rss_mib(p.pid) for name, p in services.items()}
    finally:
        stop_all(processes)
    return [
        ("tasks created and published", f"{count} ({concurrency} in flight)"),
        ("API throughput (create+publish pairs/s)", f"{count / write_s:.0f}"),
        (
            "create+publish latency p50 / p95 / p99 (ms)",
            " / ".join(f"{_percentile(latencies, p) * 1000:.1f}" for p in (50, 95, 99)),
        ),
        ("reached matching", f"{len(lags)} of {count}"),
        (
            "publish → matching lag p50 / p95 / max (ms)",
            f"{statistics.median(lags) * 1000:.0f} / {_percentile(lags, 95) * 1000:.0f} / "
            f"{max(lags) * 1000:.0f}"
            if lags
            else "n/a",
        ),
        ("all events in matching after (s)", f"{drained_s:.1f}"),
        ("RSS catalog before → after (MiB)", f"{before['catalog']:.0f} → {after['catalog']:.0f}"),
        (
            "RSS matching before → after (MiB)",
            f"{before['matching']:.0f} → {after['matching']:.0f}",
        ),
    ]
