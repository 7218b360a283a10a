"""Fixtures for the whole suite: a signing key and tokens, and PostgreSQL when it is wanted.

`TASKFORCE_TEST_POSTGRES=1` requires PostgreSQL (CI), `0` skips it, unset uses it when the
binaries are on the machine.
"""

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from services.kernel.auth import mint_local_token
from services.kernel.settings import KernelSettings
from taskforce.cli import dev_scopes
from tests.pg import PostgresServer, find_bin_dir, start_postgres


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth") / "signing.key"


@pytest.fixture(scope="session")
def token_for(key_file: Path) -> Callable[..., str]:
    settings = KernelSettings(auth_local_key_file=key_file)

    def mint(
        *roles: str,
        sub: str | None = None,
        worker_id: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> str:
        """A token for `roles`; a service's holds every scope unless `scopes` names fewer."""
        return mint_local_token(
            settings,
            sub or f"user-{uuid.uuid4().hex[:8]}",
            list(roles),
            worker_id=worker_id,
            scopes=dev_scopes(roles) if scopes is None else scopes,
        )

    return mint


def _postgres_wanted() -> bool | None:
    flag = os.environ.get("TASKFORCE_TEST_POSTGRES", "").strip()
    if flag == "0":
        return False
    if flag == "1":
        return True
    return None


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    wanted = _postgres_wanted()
    if wanted is False or (wanted is None and find_bin_dir() is None):
        yield None
        return
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Integration tests that take `database_url` run once per database engine.
    # A test that chooses its engines itself (its own parametrize) keeps its choice.
    chosen = any(
        mark.args and mark.args[0] == "database_url"
        for mark in metafunc.definition.iter_markers("parametrize")
    )
    if "database_url" in metafunc.fixturenames and not chosen:
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
