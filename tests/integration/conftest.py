"""Integration fixtures: a fresh database per test (SQLite file, or a new PostgreSQL database)
and each service's app driven in-process, API only (no broker: the outbox is asserted)."""

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from tests.pg import PostgresServer


@pytest.fixture
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: PostgresServer | None
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    if postgres is None:
        pytest.skip("PostgreSQL not available (set TASKFORCE_TEST_POSTGRES=1 to require it)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        host="127.0.0.1", port=postgres.port, user="postgres", database="postgres"
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield postgres.url(name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def service_settings(settings_type: type, database_url: str, key_file: Path):  # type: ignore[no-untyped-def]
    # Port 9 (discard) is closed on loopback: the API runs without a broker, as a test of
    # the outbox rather than of delivery.
    return settings_type(
        database_url=database_url,
        auth_local_key_file=key_file,
        kafka_bootstrap_servers="127.0.0.1:9",
        run_worker_in_api=False,
        log_json=False,
        log_level="WARNING",
        # Tests read right after applying events: matching's index looks at every read.
        index_refresh_interval_s=0,
    )


@pytest.fixture
def client_of(key_file: Path) -> Callable[..., object]:
    """`async with client_of(app) as (client, app):` runs the app's lifespan around a client."""

    class _Running:
        def __init__(self, app: FastAPI) -> None:
            self.app = app
            self.manager = LifespanManager(app, startup_timeout=60)

        async def __aenter__(self) -> httpx.AsyncClient:
            await self.manager.__aenter__()
            self.client = httpx.AsyncClient(
                transport=httpx.ASGITransport(self.app), base_url="http://testserver"
            )
            return self.client

        async def __aexit__(self, *exc: object) -> None:
            await self.client.aclose()
            await self.manager.__aexit__(*exc)

    return _Running
