"""The `taskforce` command: run the embedded stack, mint development tokens, load demo data.
Every failure is one line on stderr and a non-zero exit, never a traceback."""

from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import httpx
import typer
from rich.console import Console

from services.kernel.auth import ROLES, SCOPES, mint_local_token
from services.kernel.settings import KernelSettings
from taskforce.clients import clients_app
from taskforce.demo import (
    MIN_WORKERS,
    DemoLoadError,
    TokenSource,
    load_demo,
    stack_is_empty,
)
from taskforce.importing import ImportFailed, job_summary, summary, upload_release
from taskforce.matching import MatchRunFailed, follow_run, run_summary
from taskforce.stack import StackError, run_stack

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_KEY_FILE = Path("var/dev-signing.key")

app = typer.Typer(
    name="taskforce",
    help="Run and use Taskforce, the internal talent marketplace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(clients_app, name="clients")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"taskforce: {message}", err=True)
    raise typer.Exit(code)


KeyFile = typer.Option(
    DEFAULT_KEY_FILE,
    "--key-file",
    envvar="TASKFORCE_AUTH_LOCAL_KEY_FILE",
    help="The embedded stack's signing key (created by the first use).",
)


@app.command()
def run(
    demo: bool = typer.Option(
        True, "--demo/--no-demo", help="Load demo data when the stack is empty."
    ),
    var_dir: Path = typer.Option(
        Path("var"), "--var-dir", help="Where databases, the signing key and logs live."
    ),
    port: int = typer.Option(
        8080,
        "--port",
        min=1,
        max=65532,
        help="The gateway's port; the services take the next three.",
    ),
    broker_port: int = typer.Option(9092, "--broker-port", min=1, max=65535),
) -> None:
    """Start the embedded stack (broker and services) until Ctrl-C."""
    try:
        run_stack(var_dir, base_port=port, broker_port=broker_port, demo=demo)
    except StackError as exc:
        fail(str(exc))


@app.command()
def token(
    sub: str = typer.Option(..., "--sub", help="Who the token is for (the `sub` claim)."),
    role: list[str] = typer.Option(
        ..., "--role", help=f"Repeatable; one of {', '.join(sorted(ROLES))}."
    ),
    worker_id: str | None = typer.Option(None, "--worker-id"),
    org_unit: str | None = typer.Option(None, "--org-unit"),
    scope: list[str] = typer.Option(
        [],
        "--scope",
        help=f"Repeatable; one of {', '.join(sorted(SCOPES))}. A service token gets every "
        "scope unless some are named.",
    ),
    ttl_hours: float = typer.Option(12.0, "--ttl-hours"),
    key_file: Path = KeyFile,
) -> None:
    """Mint a development token for the embedded stack; prints only the JWT."""
    unknown = sorted(set(role) - ROLES)
    if unknown:
        fail(
            f"unknown role {', '.join(map(repr, unknown))}; choose from {', '.join(sorted(ROLES))}",
            code=2,
        )
    unknown = sorted(set(scope) - SCOPES)
    if unknown:
        fail(
            f"unknown scope {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(sorted(SCOPES))}",
            code=2,
        )
    if ttl_hours <= 0:
        fail("--ttl-hours must be positive", code=2)
    try:
        jwt = mint_local_token(
            KernelSettings(auth_local_key_file=key_file),
            sub,
            list(dict.fromkeys(role)),
            worker_id=worker_id,
            org_unit=org_unit,
            ttl_s=round(ttl_hours * 3600),
            scopes=scope or dev_scopes(role),
        )
    except OSError as exc:
        fail(f"cannot use the signing key {key_file}: {exc.strerror or exc}")
    typer.echo(jwt)


def dev_scopes(roles: Iterable[str]) -> frozenset[str]:
    """What a development token may do: a machine client (role `service`) every scope, so the
    demo's HRIS feed and hand-made tokens pass the gateway; people need none."""
    return SCOPES if "service" in roles else frozenset()


def _minter(key_file: Path) -> TokenSource:
    """Tokens per role from the embedded stack's key; never a new key the stack does not know."""
    if not key_file.is_file():
        fail(
            f"no token: set TASKFORCE_TOKEN to an admin token, or point --key-file at the "
            f"stack's signing key ({key_file} does not exist)"
        )
    settings = KernelSettings(auth_local_key_file=key_file)

    def mint(sub: str, roles: list[str], org_unit: str | None) -> str:
        return mint_local_token(
            settings, sub, roles, org_unit=org_unit, ttl_s=3600, scopes=dev_scopes(roles)
        )

    return mint


@app.command("demo")
def demo_command(
    url: str = typer.Option(
        DEFAULT_URL, "--url", envvar="TASKFORCE_URL", help="The gateway of a running stack."
    ),
    workers: int = typer.Option(300, "--workers", min=0),
    tasks: int = typer.Option(200, "--tasks", min=0),
    seed: int = typer.Option(7, "--seed"),
    bearer: str | None = typer.Option(
        None,
        "--token",
        envvar="TASKFORCE_TOKEN",
        help="An admin token; else tokens are minted per role from --key-file.",
    ),
    key_file: Path = KeyFile,
) -> None:
    """Load demo skills, workers and published tasks into a running, empty stack."""
    if workers < MIN_WORKERS:
        fail(f"--workers must be at least {MIN_WORKERS}: every org unit needs its managers", 2)
    source = bearer or _minter(key_file)
    admin_token = source if isinstance(source, str) else source("taskforce-demo", ["admin"], None)
    try:
        if not stack_is_empty(url, admin_token):
            fail(
                f"the stack at {url} already holds skills; demo data loads only into an empty stack"
            )
        data = load_demo(url, source, seed=seed, workers=workers, tasks=tasks)
    except DemoLoadError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; the stack holds part of the demo data", code=130)
    Console().print(
        f"Loaded {len(data.skills)} skills, {len(data.workers)} workers and "
        f"{len(data.tasks)} published tasks into {url}.",
        highlight=False,
    )


@app.command("match")
def match_command(
    task: list[str] = typer.Option([], "--task", help="Repeatable: the tasks to staff."),
    org_unit: str | None = typer.Option(None, "--org-unit", help="The open tasks of a unit."),
    time_limit_s: float = typer.Option(10.0, "--time-limit", min=1, max=600),
    max_per_worker: int | None = typer.Option(
        None, "--max-per-worker", min=1, help="Fairness: at most this many proposals each."
    ),
    url: str = typer.Option(DEFAULT_URL, "--url", envvar="TASKFORCE_URL", help="The gateway."),
    bearer: str | None = typer.Option(
        None, "--token", envvar="TASKFORCE_TOKEN", help="A manager or admin token."
    ),
    key_file: Path = KeyFile,
) -> None:
    """Optimise who does what over open tasks (all of them unless --task or --org-unit)."""
    if task and org_unit:
        fail("give --task or --org-unit, not both", code=2)
    scope: dict[str, object] = (
        {"task_ids": task} if task else {"org_unit": org_unit} if org_unit else {"all_open": True}
    )
    body = {
        "scope": scope,
        "time_limit_s": time_limit_s,
        "fairness": {"max_proposals_per_worker": max_per_worker},
    }
    token = bearer or _minter(key_file)("taskforce-match", ["admin"], None)
    console = Console()
    try:
        run = follow_run(url, token, body, console)
    except MatchRunFailed as exc:
        fail(str(exc))
    except httpx.HTTPError as exc:
        fail(f"cannot reach {url}: {exc}")
    except KeyboardInterrupt:
        fail("interrupted; the run was asked to cancel", code=130)
    console.print(run_summary(run), highlight=False)


import_app = typer.Typer(
    help="Import a skills taxonomy release into a running Taskforce.", no_args_is_help=True
)
app.add_typer(import_app, name="import")
Url = typer.Option(DEFAULT_URL, "--url", envvar="TASKFORCE_URL", help="The gateway.")
Token = typer.Option(
    None,
    "--token",
    envvar="TASKFORCE_TOKEN",
    help="An admin token; else one is minted from --key-file (embedded).",
)


def _import(
    source: str,
    paths: list[Path],
    url: str,
    bearer: str | None,
    key_file: Path,
    with_jobs: bool = False,
) -> None:
    token = bearer or _minter(key_file)("taskforce-import", ["admin"], None)
    console = Console()
    try:
        job = upload_release(url, token, source, paths, console)
        console.print(summary(job), highlight=False)
        if with_jobs:
            jobs = upload_release(
                url, token, source, paths, console, endpoint="/v1/job-imports", what="O*NET jobs"
            )
            console.print(job_summary(jobs), highlight=False)
    except ImportFailed as exc:
        fail(str(exc))
    except httpx.HTTPError as exc:
        fail(f"cannot reach {url}: {exc}")


@import_app.command("esco")
def import_esco(
    paths: list[Path] = typer.Argument(
        ...,
        help="The ESCO CSV classification zip (English) and the relations zip, or a "
        "folder holding them.",
    ),
    url: str = Url,
    bearer: str | None = Token,
    key_file: Path = KeyFile,
) -> None:
    """Import ESCO skills, their alternative labels, hierarchy and relations."""
    folders = [p for p in paths if p.is_dir()]
    files = [p for p in paths if not p.is_dir()]
    files += [z for folder in folders for z in sorted(folder.glob("*.zip"))]
    _import("esco", files, url, bearer, key_file)


@import_app.command("onet")
def import_onet(
    path: Path = typer.Argument(..., help="The O*NET text release folder, or its zip."),
    url: str = Url,
    bearer: str | None = Token,
    key_file: Path = KeyFile,
) -> None:
    """Import O*NET skills, knowledge areas and technology skills (profiles), and the
    occupations and task statements that jobs are deconstructed from (catalog)."""
    _import("onet", [path], url, bearer, key_file, with_jobs=True)
