"""`taskforce token` prints only a JWT the services accept, refuses unknown roles and scopes, and
gives a service token every scope unless some are named."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.kernel.auth import SCOPES, TokenVerifier
from services.kernel.settings import KernelSettings
from taskforce.cli import app


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "var" / "dev-signing.key"


def test_the_token_carries_the_roles_and_worker_id_and_verifies(key_file: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "token",
            "--sub",
            "alice",
            "--role",
            "manager",
            "--role",
            "worker",
            "--worker-id",
            "w-42",
            "--org-unit",
            "Finance",
            "--key-file",
            str(key_file),
        ],
    )

    assert result.exit_code == 0, result.output
    jwt = result.stdout.strip()
    assert result.stdout == f"{jwt}\n"
    user = TokenVerifier(KernelSettings(auth_local_key_file=key_file)).verify(jwt)
    assert user.sub == "alice"
    assert user.roles == {"manager", "worker"}
    assert user.worker_id == "w-42"
    assert user.org_unit == "Finance"


def test_the_first_token_creates_the_signing_key_and_later_ones_reuse_it(key_file: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(
        app, ["token", "--sub", "a", "--role", "admin", "--key-file", str(key_file)]
    )
    key = key_file.read_text()
    second = runner.invoke(
        app, ["token", "--sub", "b", "--role", "service", "--key-file", str(key_file)]
    )

    assert first.exit_code == second.exit_code == 0
    assert key_file.read_text() == key
    verifier = TokenVerifier(KernelSettings(auth_local_key_file=key_file))
    assert verifier.verify(first.stdout.strip()).roles == {"admin"}
    assert verifier.verify(second.stdout.strip()).roles == {"service"}


def test_an_unknown_role_is_refused_with_one_line(key_file: Path) -> None:
    result = CliRunner().invoke(
        app, ["token", "--sub", "alice", "--role", "boss", "--key-file", str(key_file)]
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "unknown role 'boss'" in result.stderr
    assert "manager" in result.stderr
    assert not key_file.exists()


def test_a_signing_key_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    result = CliRunner().invoke(
        app, ["token", "--sub", "a", "--role", "admin", "--key-file", str(blocker / "key")]
    )

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "signing key" in result.stderr


def test_a_service_token_gets_every_scope_unless_some_are_named(key_file: Path) -> None:
    runner = CliRunner()
    every = runner.invoke(
        app, ["token", "--sub", "hris", "--role", "service", "--key-file", str(key_file)]
    )
    named = runner.invoke(
        app,
        [
            "token",
            "--sub",
            "hris",
            "--role",
            "service",
            "--scope",
            "workers:read",
            "--scope",
            "workers:write",
            "--key-file",
            str(key_file),
        ],
    )
    person = runner.invoke(
        app, ["token", "--sub", "ada", "--role", "worker", "--key-file", str(key_file)]
    )

    verifier = TokenVerifier(KernelSettings(auth_local_key_file=key_file))
    assert verifier.verify(every.stdout.strip()).scopes == SCOPES
    assert verifier.verify(named.stdout.strip()).scopes == {"workers:read", "workers:write"}
    assert verifier.verify(person.stdout.strip()).scopes == frozenset()


def test_an_unknown_scope_is_refused_with_one_line(key_file: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "token",
            "--sub",
            "hris",
            "--role",
            "service",
            "--scope",
            "tasks:delete",
            "--key-file",
            str(key_file),
        ],
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "unknown scope 'tasks:delete'" in result.stderr
    assert not key_file.exists()
