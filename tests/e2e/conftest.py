"""End-to-end harness: the real tansu broker and the services as real processes, started per
test with the embedded stack's own launcher functions, on free loopback ports."""

import contextlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.kernel.auth import mint_local_token
from services.kernel.settings import KernelSettings
from taskforce.cli import dev_scopes
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

pytestmark = pytest.mark.e2e

# Fast settings for tests on the embedded broker (DESIGN §7): short group sessions, low
# fetch waits, quick broker checks.
FAST = {
    "TASKFORCE_KAFKA_SESSION_TIMEOUT_MS": "3000",
    "TASKFORCE_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    "TASKFORCE_KAFKA_FETCH_MAX_WAIT_MS": "20",
    "TASKFORCE_KAFKA_METADATA_MAX_AGE_MS": "1000",
    "TASKFORCE_BROKER_CHECK_INTERVAL_S": "0.5",
    "TASKFORCE_RELAY_POLL_INTERVAL_S": "0.5",
    "TASKFORCE_LOG_JSON": "false",
}


def _free_ports() -> tuple[int, int]:
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 60000, 10)
        if not check_ports_free([base, base + 1, base + 2, base + 3, base + 5]):
            return base, base + 5
    raise RuntimeError("no free ports")


@dataclass
class Stack:
    var_dir: Path
    base_port: int
    broker_port: int
    broker: subprocess.Popen | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.base_port + PORT_OFFSETS[name]}"

    def start_broker(self) -> None:
        self.broker = start_broker(self.broker_port, self.log_dir)
        wait_broker_ready(self.broker_port, 30, self.broker)

    def kill_broker(self) -> None:
        assert self.broker is not None
        os.killpg(self.broker.pid, signal.SIGKILL)
        self.broker.wait()

    def start(self, name: str, wait: bool = True, **env: str) -> subprocess.Popen:
        child_env = service_env(name, self.var_dir, self.base_port, self.broker_port)
        process = start_service(name, child_env | FAST | env, self.log_dir)
        self.processes[name] = process
        if wait:
            wait_ready(self.url(name), 60, process)
        return process

    def kill(self, name: str) -> None:
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def wait_exit(self, name: str, timeout_s: float = 30) -> int:
        return self.processes[name].wait(timeout=timeout_s)

    def token(
        self,
        *roles: str,
        sub: str = "e2e-user",
        worker_id: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> str:
        """A token for `roles`; a service's holds every scope unless `scopes` names fewer."""
        settings = KernelSettings(auth_local_key_file=self.var_dir / "dev-signing.key")
        granted = dev_scopes(roles) if scopes is None else scopes
        return mint_local_token(settings, sub, list(roles), worker_id=worker_id, scopes=granted)

    def client(
        self, name: str, *roles: str, sub: str = "e2e-user", scopes: Iterable[str] | None = None
    ) -> httpx.Client:
        return httpx.Client(
            base_url=self.url(name),
            timeout=10,
            headers={"Authorization": f"Bearer {self.token(*roles, sub=sub, scopes=scopes)}"},
        )

    def query(self, name: str, sql: str, *args: Any) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.var_dir / f"{name}.db", timeout=10)) as db:
            return db.execute(sql, args).fetchall()

    def consumed(self, name: str, outcome: str) -> float:
        """How many events `name`'s consumers have had with `outcome`, from /metrics."""
        text = httpx.get(f"{self.url(name)}/metrics", timeout=5).text
        pattern = rf'^events_consumed_total{{[^}}]*outcome="{outcome}"[^}}]*}} (\S+)$'
        return sum(float(m) for m in re.findall(pattern, text, flags=re.M))

    async def teach_catalog_skills(self, *skill_ids: str) -> None:
        """Announce skills on `profiles.skills` as profiles would, and wait until the catalog
        (which validates requirements against its copy of the taxonomy) knows them."""
        from aiokafka import AIOKafkaProducer

        from services.kernel.contracts.profiles import SkillUpserted
        from services.kernel.events import Envelope, to_kafka

        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{self.broker_port}")
        await producer.start()
        try:
            for skill_id in skill_ids:
                event = SkillUpserted(id=skill_id, version=1, label=skill_id, source="test")
                key, value, headers = to_kafka(Envelope.wrap(event, "/test"))
                await producer.send_and_wait(event.topic, value=value, key=key, headers=headers)
        finally:
            await producer.stop()
        self.wait_for_catalog_skills(*skill_ids)

    def wait_for_catalog_skills(self, *skill_ids: str) -> None:
        marks = ",".join("?" * len(skill_ids))
        eventually(
            lambda: (
                self.query(
                    "catalog", f"SELECT count(*) FROM skill_ref WHERE id IN ({marks})", *skill_ids
                )
                == [(len(skill_ids),)]
            ),
            what="the catalog knows the skills",
        )

    def stop_everything(self) -> None:
        processes = list(self.processes.values())
        if self.broker is not None:
            processes.append(self.broker)
        stop_all(processes)


def eventually(check: Callable[[], Any], timeout_s: float = 30, what: str = "condition") -> Any:
    """Poll `check` until it returns a truthy value; its last exception or value on failure."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached in {timeout_s:g} s (last: {last!r})")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    base, broker = _free_ports()
    running = Stack(var_dir=tmp_path / "var", base_port=base, broker_port=broker)
    running.var_dir.mkdir()
    running.start_broker()
    try:
        yield running
    finally:
        running.stop_everything()
        if os.environ.get("TASKFORCE_E2E_SHOW_LOGS"):
            for log in sorted(running.log_dir.glob("*.log")):
                print(f"===== {log.name}\n{log.read_text()[-4000:]}")
