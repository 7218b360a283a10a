"""`worker`: the operations endpoints Kubernetes probes and Prometheus scrapes on
`TASKFORCE_WORKER_HTTP_PORT`."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from taskforce.stack import stop_all

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


def test_the_worker_serves_probes_and_metrics_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
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
            [sys.executable, "-m", "services.catalog", "worker"],
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
