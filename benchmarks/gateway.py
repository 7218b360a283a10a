"""Gateway benchmark: wrk sends the same `GET /v1/tasks/{id}` with an admin token straight to
the catalog and through the gateway (rate limits off), on the real processes, and compares
requests/s and p50/p99 latency. Issue 6's target: the gateway keeps at least 60% of the
direct throughput. Skips, saying so, where wrk is not installed."""

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.events import _announce_skill, _publish_all, _wait_for_skill
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
BASE_PORT, BROKER_PORT = 28180, 28192
TARGET_RATIO = 0.60
WARM_UP_S = 3
NO_RATE_LIMITS = {"TASKFORCE_RATE_LIMIT_IP_PER_S": "0", "TASKFORCE_RATE_LIMIT_SUBJECT_PER_S": "0"}
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
SOCKET_ERRORS = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    not_ok: int
    socket_errors: int


def parse_wrk(output: str) -> WrkResult:
    """The figures of `wrk --latency` output."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in ", output, re.M)
    if rate is None or total is None:
        raise ValueError(f"not wrk output: {output[-500:]!r}")
    latency = {
        int(p): float(value) * UNITS_MS[unit]
        for p, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    not_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(SOCKET_ERRORS, output)
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        p50_ms=latency[50],
        p99_ms=latency[99],
        requests=int(total.group(1)),
        not_ok=int(not_ok.group(1)) if not_ok else 0,
        socket_errors=sum(map(int, errors.groups())) if errors else 0,
    )


def wrk(url: str, token: str, duration_s: int, connections: int, threads: int) -> WrkResult:
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    result = parse_wrk(done.stdout)
    if result.not_ok:
        # Refusals (401, 404, 429) are cheap: counting them would flatter either side.
        raise SystemExit(f"bench: {result.not_ok} of {result.requests} answers from {url} not 2xx")
    return result


def _seed_tasks(var: Path, catalog_url: str, count: int) -> list[str]:
    """`count` published tasks, created through the catalog's API; their ids."""
    asyncio.run(_announce_skill(BROKER_PORT, "taskforce:python"))
    _wait_for_skill(var, "taskforce:python")
    token = mint_local_token(
        KernelSettings(auth_local_key_file=var / "dev-signing.key"), "bench", ["manager"]
    )
    published, _ = asyncio.run(_publish_all(catalog_url, token, count, concurrency=8))
    return [str(uuid.UUID(key)) for key in sorted(published)]


def _best(results: list[WrkResult]) -> WrkResult:
    return max(results, key=lambda r: r.requests_per_s)


def run(
    tasks: int = 300, duration_s: int = 15, connections: int = 16, threads: int = 2, rounds: int = 2
) -> list[tuple[str, str]]:
    if shutil.which("wrk") is None:
        return [("gateway benchmark", "skipped: wrk is not installed (apt-get install wrk)")]
    ports = {name: BASE_PORT + PORT_OFFSETS[name] for name in ("gateway", "catalog")}
    busy = check_ports_free([*ports.values(), BROKER_PORT])
    if busy:
        raise SystemExit(f"bench: ports in use: {busy}")
    load_before = os.getloadavg()
    var = Path(tempfile.mkdtemp(prefix="taskforce-bench-gateway-"))
    log = var / "log"
    processes = [start_broker(BROKER_PORT, log)]
    try:
        wait_broker_ready(BROKER_PORT, 30, processes[0])
        catalog = start_service("catalog", service_env("catalog", var, BASE_PORT, BROKER_PORT), log)
        processes.append(catalog)
        gateway_env = service_env("gateway", var, BASE_PORT, BROKER_PORT) | NO_RATE_LIMITS
        gateway = start_service("gateway", gateway_env, log)
        processes.append(gateway)
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        wait_ready(urls["catalog"], 60, catalog)
        wait_ready(urls["gateway"], 60, gateway)
        task_ids = _seed_tasks(var, urls["catalog"], tasks)
        token = mint_local_token(
            KernelSettings(auth_local_key_file=var / "dev-signing.key"), "bench-admin", ["admin"]
        )
        path = f"/v1/tasks/{task_ids[len(task_ids) // 2]}"
        # Both ends must give the same answer, or the comparison means nothing.
        bodies = {
            name: httpx.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            for name, url in urls.items()
        }
        if {b.status_code for b in bodies.values()} != {200} or len(
            {b.content for b in bodies.values()}
        ) != 1:
            raise SystemExit(f"bench: {path} answers differ: {bodies}")
        results: dict[str, list[WrkResult]] = {"catalog": [], "gateway": []}
        for _ in range(rounds):
            for name, url in urls.items():
                wrk(url + path, token, WARM_UP_S, connections, threads)
                results[name].append(wrk(url + path, token, duration_s, connections, threads))
    finally:
        stop_all(processes)
    shutil.rmtree(var, ignore_errors=True)
    direct, proxied = _best(results["catalog"]), _best(results["gateway"])
    ratio = proxied.requests_per_s / direct.requests_per_s
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    return [
        ("load average before (1 / 5 / 15 min)", " / ".join(f"{x:.2f}" for x in load_before)),
        ("request", f"GET /v1/tasks/{{id}}, admin token, {tasks} tasks in the catalog"),
        (
            "wrk",
            f"{threads} threads, {connections} connections, {duration_s} s after {WARM_UP_S} s "
            f"of warm-up; best of {rounds} rounds",
        ),
        ("direct to catalog: requests/s", f"{direct.requests_per_s:,.0f}"),
        ("direct to catalog: p50 / p99 (ms)", f"{direct.p50_ms:.2f} / {direct.p99_ms:.2f}"),
        ("through the gateway: requests/s", f"{proxied.requests_per_s:,.0f}"),
        ("through the gateway: p50 / p99 (ms)", f"{proxied.p50_ms:.2f} / {proxied.p99_ms:.2f}"),
        (
            "gateway / direct throughput",
            f"{100 * ratio:.0f}% (target ≥ {100 * TARGET_RATIO:.0f}%: {verdict})",
        ),
        (
            "socket errors (direct / gateway)",
            f"{sum(r.socket_errors for r in results['catalog'])} / "
            f"{sum(r.socket_errors for r in results['gateway'])}",
        ),
    ]
