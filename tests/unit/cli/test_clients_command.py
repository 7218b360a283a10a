"""`taskforce clients add|list|remove`: the secret is printed once and stored only as a hash;
bad names, unknown scopes and unknown clients are one line and a non-zero exit."""

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from services.gateway.oauth_clients import authenticate, load_clients
from taskforce.cli import app


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "var" / "oauth-clients.json"


def clients(registry: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["clients", *args, "--clients-file", str(registry)])


def test_adding_a_client_prints_only_its_secret_which_then_authenticates(registry: Path) -> None:
    result = clients(registry, "add", "hris", "--scope", "workers:write workers:read")

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert result.stdout == f"{secret}\n" and len(secret) >= 40
    assert "cannot be shown again" in result.stderr
    client = authenticate(registry, "hris", secret)
    assert client is not None
    assert client.scopes == {"workers:read", "workers:write"}
    assert authenticate(registry, "hris", secret + "x") is None
    assert secret not in registry.read_text()


def test_each_client_gets_its_own_secret(registry: Path) -> None:
    first = clients(registry, "add", "hris", "--scope", "workers:write").stdout.strip()
    second = clients(registry, "add", "jira", "--scope", "tasks:write").stdout.strip()

    assert first != second
    assert authenticate(registry, "jira", first) is None
    assert load_clients(registry).keys() == {"hris", "jira"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "hris", "--scope", "tasks:delete"], "unknown scope 'tasks:delete'"),
        (["add", "HRIS system", "--scope", "tasks:read"], "not a valid client id"),
        (["add", "hris", "--scope", " "], "at least one scope"),
    ],
    ids=["unknown scope", "bad name", "no scope"],
)
def test_a_bad_registration_is_one_line_and_registers_nothing(
    registry: Path, args: list[str], message: str
) -> None:
    result = clients(registry, *args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not registry.exists()


def test_a_taken_name_is_refused_and_the_first_secret_still_works(registry: Path) -> None:
    secret = clients(registry, "add", "hris", "--scope", "tasks:read").stdout.strip()

    again = clients(registry, "add", "hris", "--scope", "tasks:write")

    assert again.exit_code == 1
    assert "already exists" in again.stderr
    client = authenticate(registry, "hris", secret)
    assert client is not None and client.scopes == {"tasks:read"}


def test_the_list_shows_clients_and_scopes_but_no_secret(registry: Path) -> None:
    secret = clients(registry, "add", "hris", "--scope", "workers:write").stdout.strip()

    listed = clients(registry, "list")

    assert listed.exit_code == 0
    assert "hris" in listed.stdout and "workers:write" in listed.stdout
    assert secret not in listed.stdout and "scrypt" not in listed.stdout


def test_an_empty_registry_lists_no_clients(registry: Path) -> None:
    listed = clients(registry, "list")

    assert listed.exit_code == 0
    assert "No machine clients" in listed.stdout


def test_a_removed_client_no_longer_authenticates(registry: Path) -> None:
    secret = clients(registry, "add", "hris", "--scope", "workers:write").stdout.strip()
    clients(registry, "add", "jira", "--scope", "tasks:write")

    removed = clients(registry, "remove", "hris")

    assert removed.exit_code == 0
    assert authenticate(registry, "hris", secret) is None
    assert load_clients(registry).keys() == {"jira"}


def test_removing_an_unknown_client_is_one_line(registry: Path) -> None:
    result = clients(registry, "remove", "nobody")

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "no client 'nobody'" in result.stderr


def test_a_corrupt_registry_is_one_line_not_a_traceback(registry: Path) -> None:
    registry.parent.mkdir(parents=True)
    registry.write_text("{not json")

    result = clients(registry, "list")

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "cannot be read" in result.stderr
