"""`taskforce clients add|list|remove`: the embedded stack's machine clients, which get tokens
from the gateway's `POST /oauth/token`. Works on the registry file directly; with an OIDC
provider, clients are registered there instead (docs/machine-clients.md)."""

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from services.gateway.oauth_clients import (
    ClientRegistryError,
    add_client,
    load_clients,
    remove_client,
)
from services.kernel.auth import SCOPES

clients_app = typer.Typer(
    help="Machine clients of the embedded stack (OAuth2 client credentials).",
    no_args_is_help=True,
)
ClientsFile = typer.Option(
    Path("var/oauth-clients.json"),
    "--clients-file",
    envvar="TASKFORCE_OAUTH_CLIENTS_FILE",
    help="The gateway's client registry.",
)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"taskforce: {message}", err=True)
    raise typer.Exit(code)


@clients_app.command("add")
def add(
    name: str = typer.Argument(..., help="The client id, e.g. hris or project-tool."),
    scope: list[str] = typer.Option(
        ...,
        "--scope",
        help=f"Repeatable (or space-separated); any of {', '.join(sorted(SCOPES))}.",
    ),
    clients_file: Path = ClientsFile,
) -> None:
    """Register a client; prints its secret once, on stdout."""
    scopes = {name for value in scope for name in value.split()}
    try:
        secret = add_client(clients_file, name, scopes)
    except ValueError as exc:
        _fail(str(exc), code=2)
    except ClientRegistryError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {clients_file}: {exc.strerror or exc}")
    typer.echo(
        f"Registered {name} with scopes {' '.join(sorted(scopes))}. The secret follows; "
        "store it now, it cannot be shown again.",
        err=True,
    )
    typer.echo(secret)


@clients_app.command("list")
def list_clients(clients_file: Path = ClientsFile) -> None:
    """The registered clients and their scopes (never their secrets)."""
    try:
        clients = load_clients(clients_file)
    except ClientRegistryError as exc:
        _fail(str(exc))
    if not clients:
        typer.echo(f"No machine clients are registered in {clients_file}.")
        return
    table = Table("client id", "scopes", "registered at")
    for client in sorted(clients.values(), key=lambda c: c.client_id):
        table.add_row(client.client_id, " ".join(sorted(client.scopes)), client.created_at)
    Console().print(table)


@clients_app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The client id."),
    clients_file: Path = ClientsFile,
) -> None:
    """Remove a client: it gets no new token; tokens already issued live until they expire."""
    try:
        remove_client(clients_file, name)
    except ClientRegistryError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {clients_file}: {exc.strerror or exc}")
    typer.echo(f"Removed {name}.")
