"""Each service's migrations build exactly the schema its models declare, on SQLite and
PostgreSQL: a column added to a model without a migration (or the reverse) fails here."""

import asyncio
import importlib
import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from services.kernel import idempotency, inbox, outbox
from services.kernel.db import KernelBase, migrate_async

# The kernel's tables register on KernelBase by being imported.
assert idempotency and inbox and outbox

SERVICES = {
    "catalog": ["services.catalog.models", "services.catalog.jobs_models"],
    "profiles": ["services.profiles.models"],
    "matching": [
        "services.matching.models",
        "services.matching.assignments_models",
        "services.matching.interests_models",
        "services.matching.runs_models",
    ],
}


def _same_unless_different(context, inspected, declared, inspected_type, declared_type):  # type: ignore[no-untyped-def]
    """REAL and DOUBLE are one storage class on SQLite; other types compare as Alembic does."""
    floats = (sa.Float, sa.Double)
    if isinstance(inspected_type, floats) and isinstance(declared_type, floats):
        return False
    return None


def _metadata(modules: list[str]) -> sa.MetaData:
    merged = sa.MetaData()
    for name in modules:
        for table in importlib.import_module(name).Base.metadata.tables.values():
            if table.name not in merged.tables:
                table.to_metadata(merged)
    for table in KernelBase.metadata.tables.values():
        if table.name not in merged.tables:
            table.to_metadata(merged)
    return merged


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_migrations_build_what_the_models_declare(service: str, database_url: str) -> None:
    migrations = Path("services") / service / "migrations"
    await migrate_async(migrations, database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": _same_unless_different}),
                    _metadata(SERVICES[service]),
                )
            )
    finally:
        await engine.dispose()
    assert differences == [], "\n".join(map(str, differences))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_pods_starting_together_migrate_once_each(database_url: str) -> None:
    """A rollout starts the new version's pods at once, each migrating first; on an empty
    database they would all create the same tables. The advisory lock lines them up, and
    the URL form CloudNativePG's secret holds (`postgresql://`) is accepted as it is."""
    env = os.environ | {
        "TASKFORCE_DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgresql://")
    }
    pods = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.matching",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = await asyncio.gather(*(pod.communicate() for pod in pods))
    assert [pod.returncode for pod in pods] == [0] * 4, [out for out, _ in outputs]
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            versions = (
                await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            ).all()
            tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    assert len(versions) == 1
    assert {"outbox_message", "inbox_message", "match_run"} <= set(tables)


async def test_a_rolled_back_release_leaves_a_newer_schema_alone(database_url: str) -> None:
    """Rolling back to the previous image runs its `migrate` init container against the
    schema the newer release left: it must start, not fail on a revision it does not know."""
    migrations = Path("services") / "catalog" / "migrations"
    await migrate_async(migrations, database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
            )
        await migrate_async(migrations, database_url)
        async with engine.connect() as connection:
            versions = (
                await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(v) for v in versions] == [("f00dfeedbeef",)]
