"""`worker` and `consume`: what each runs, and the operations endpoints Kubernetes probes and
Prometheus scrapes on `TASKFORCE_WORKER_HTTP_PORT`."""

import asyncio
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.catalog.main import SPEC
from services.catalog.settings import CatalogSettings
from services.kernel.db import Database
from services.kernel.runtime import Role, Runtime, create_ops_app, start_runtime, stop_runtime
from taskforce.stack import StackError, broker_bin, start_broker, stop_all, wait_broker_ready
from tests.integration.conftest import service_settings

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get_when_up(url: str, process: subprocess.Popen, timeout_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the worker exited with {process.returncode}"
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout_s:g} s")


@pytest.mark.parametrize("command", ["worker", "consume"])
def test_the_worker_commands_serve_probes_and_metrics_and_stop_cleanly_on_sigterm(
    command: str, tmp_path: Path
) -> None:
    # No broker listens on port 9: the process runs, and its readiness says what is missing.
    port = _free_port()
    env = os.environ | {
        "TASKFORCE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
        "TASKFORCE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "TASKFORCE_WORKER_HTTP_PORT": str(port),
        "TASKFORCE_LOG_JSON": "false",
    }
    with (tmp_path / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.catalog", command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        alive = _get_when_up(f"{base}/healthz", process)
        assert alive.status_code == 200 and alive.json() == {"status": "ok"}

        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        assert ready.json()["detail"] == "Unreachable: broker."

        metrics = httpx.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "# TYPE events_consumed_total counter" in metrics.text

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/healthz", timeout=5)
    finally:
        stop_all([process])


@pytest.fixture(scope="module")
def broker_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        broker_bin()
    except StackError as exc:
        pytest.skip(str(exc))
    port = _free_port()
    broker = start_broker(port, tmp_path_factory.mktemp("broker"))
    try:
        wait_broker_ready(port, 30, broker)
        yield f"127.0.0.1:{port}"
    finally:
        stop_all([broker])


@dataclasses.dataclass
class Seen:
    """What a runtime did with its service's start-up chore and background loop."""

    started: int = 0
    looped: int = 0


async def _running(role: Role, settings: CatalogSettings, seen: Seen) -> Runtime:
    async def fail_interrupted_jobs(db: Database) -> None:
        seen.started += 1

    async def sweep_jobs(rt: Runtime) -> None:
        seen.looped += 1
        await asyncio.Event().wait()

    spec = dataclasses.replace(SPEC, on_start=fail_interrupted_jobs, background=[sweep_jobs])
    rt = await start_runtime(spec, settings, role=role)
    for _ in range(300):
        if rt.producer is not None and any(t.get_name() == "consumer-catalog" for t in rt.tasks):
            await asyncio.sleep(0.2)  # the other tasks' first steps
            return rt
        await asyncio.sleep(0.1)
    await stop_runtime(rt)
    raise AssertionError("the consumers did not start")


def _on_broker(settings: CatalogSettings, broker_url: str) -> CatalogSettings:
    # Short group sessions, as in the end-to-end tests: a consumer leaves its group sooner.
    return settings.model_copy(
        update={
            "kafka_bootstrap_servers": broker_url,
            "kafka_session_timeout_ms": 3000,
            "kafka_heartbeat_interval_ms": 500,
            "kafka_metadata_max_age_ms": 1000,
        }
    )


def _live_task_names(rt: Runtime) -> set[str]:
    return {task.get_name() for task in rt.tasks if not task.done()}


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_consume_runs_the_consumers_alone_and_is_ready_on_the_broker(
    database_url: str, key_file: Path, broker_url: str
) -> None:
    settings = _on_broker(service_settings(CatalogSettings, database_url, key_file), broker_url)
    seen = Seen()
    rt = await _running("consumers", settings, seen)
    try:
        assert _live_task_names(rt) == {"consumer-catalog"}
        assert seen == Seen(started=0, looped=0)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(create_ops_app(rt)), base_url="http://ops"
        ) as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
    finally:
        await stop_runtime(rt)


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_worker_runs_the_relay_the_broker_watch_the_loops_and_the_consumers(
    database_url: str, key_file: Path, broker_url: str
) -> None:
    settings = _on_broker(service_settings(CatalogSettings, database_url, key_file), broker_url)
    seen = Seen()
    rt = await _running("worker", settings, seen)
    try:
        assert _live_task_names(rt) == {
            "broker-watch",
            "outbox-relay",
            "outbox-backlog",
            "sweep_jobs",
            "consumer-catalog",
        }
        assert seen == Seen(started=1, looped=1)
    finally:
        await stop_runtime(rt)
