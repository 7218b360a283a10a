"""Import benchmarks: the full ESCO and O*NET skill releases through profiles' real import job
(parse, batched upserts, relations, outbox events) into a fresh SQLite database, then the same
release again (a no-op), and the catalog's O*NET job import. Skips where ../shared/data is
absent."""

import asyncio
import os
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from services.kernel.db import migrate_async, open_database
from services.profiles.imports import run_import, start_import
from services.profiles.main import SPEC
from services.profiles.models import SkillImport

DATA = Path(
    os.environ.get("TASKFORCE_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


async def _timed_import(url: str, source: str, paths: list[Path]) -> tuple[float, SkillImport]:
    db = open_database(url)
    try:
        async with db.sessions() as session:
            job = await start_import(session, source, "benchmark")
        started = time.perf_counter()
        await run_import(db, job.id, paths)
        elapsed = time.perf_counter() - started
        async with db.sessions() as session:
            done = await session.get(SkillImport, job.id)
            outbox = await session.scalar(sa.text("SELECT count(*) FROM outbox_message"))
        assert done is not None
        done.warnings = [f"{outbox} outbox events"]
        return elapsed, done
    finally:
        await db.dispose()


async def _run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    sources = {"esco": [DATA / "esco"], "onet": [DATA / "onet"]}
    for source, paths in sources.items():
        if not paths[0].exists():
            rows.append((f"{source} import", f"skipped: {paths[0]} absent"))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/profiles.db"
            await migrate_async(SPEC.migrations_dir, url)
            first_s, first = await _timed_import(url, source, paths)
            again_s, again = await _timed_import(url, source, paths)
        status = "" if first.status == "succeeded" else f" ({first.status}: {first.error})"
        rows += [
            (
                f"{source.upper()} {first.source_version}: skills imported",
                f"{first.created} ({first.warnings[0]}){status}",
            ),
            (
                f"{source.upper()} first import (s)"
                + (", target < 60" if source == "esco" else ""),
                f"{first_s:.1f}",
            ),
            (
                f"{source.upper()} re-import, unchanged / time (s)",
                f"{again.unchanged} / {again_s:.1f}",
            ),
        ]
    return rows


async def _catalog_jobs() -> list[tuple[str, str]]:
    """The catalog's O*NET job import (occupations, task statements, their links and ratings)
    that deconstruction reads; target under two minutes."""
    from services.catalog.job_imports import run_job_import, start_job_import
    from services.catalog.jobs_models import OnetImport
    from services.catalog.main import SPEC as CATALOG

    release = DATA / "onet"
    if not release.exists():
        return [("O*NET jobs import", f"skipped: {release} absent")]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/catalog.db"
        await migrate_async(CATALOG.migrations_dir, url)
        db = open_database(url)
        try:
            async with db.sessions() as session:
                job = await start_job_import(session, "benchmark")
            started = time.perf_counter()
            await run_job_import(db, job.id, release)
            elapsed = time.perf_counter() - started
            async with db.sessions() as session:
                done = await session.get(OnetImport, job.id)
        finally:
            await db.dispose()
    assert done is not None
    return [
        (
            f"O*NET {done.source_version} jobs: occupations / task statements / rows",
            f"{done.occupations} / {done.tasks} / {done.rows} ({done.status})",
        ),
        ("O*NET jobs import into catalog (s), target < 120", f"{elapsed:.1f}"),
    ]


def run() -> list[tuple[str, str]]:
    return asyncio.run(_run()) + asyncio.run(_catalog_jobs())
