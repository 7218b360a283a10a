"""The O*NET job import: the release that deconstruction reads, stored by the catalog and
replaced as a whole by each import (run in the background, polled by its caller)."""

import asyncio
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog import onet
from services.catalog.jobs_models import (
    Dwa,
    JobImportNotFound,
    Occupation,
    OccupationSkillRating,
    OccupationTask,
    OccupationTechnology,
    OnetImport,
    SkillActivity,
    TaskDwa,
    now,
)
from services.kernel.db import Database
from services.kernel.jobs import fail_interrupted

log = logging.getLogger("taskforce.catalog.jobs")
BATCH = 5000
MAX_WARNINGS = 200
# The release's tables, children first, so a replace deletes them in this order.
RELEASE_TABLES = (
    TaskDwa,
    OccupationTask,
    OccupationSkillRating,
    OccupationTechnology,
    SkillActivity,
    Dwa,
    Occupation,
)


async def start_job_import(session: AsyncSession, requested_by: str) -> OnetImport:
    job = OnetImport(
        id=uuid.uuid4(),
        status="running",
        occupations=0,
        tasks=0,
        rows=0,
        warnings=[],
        attribution="",
        requested_by=requested_by,
        started_at=now(),
    )
    session.add(job)
    await session.commit()
    return job


def release_rows(release: onet.JobRelease) -> dict[type, list[dict[str, Any]]]:
    """The release as rows of each table; duplicates of a key are kept once."""
    dwas = {
        d.dwa_id: {
            "id": d.dwa_id,
            "title": d.title,
            "iwa_id": d.iwa_id,
            "gwa_id": d.gwa_id,
            "gwa_title": release.gwa_titles.get(d.gwa_id, d.gwa_id),
        }
        for d in release.dwas
    }
    return {
        Occupation: list(
            {
                o.code: {
                    "code": o.code,
                    "title": o.title,
                    "description": o.description,
                    "ratings_from": o.ratings_from,
                }
                for o in release.occupations
            }.values()
        ),
        OccupationTask: list(
            {
                (t.occupation_code, t.task_id): {
                    "occupation_code": t.occupation_code,
                    "task_id": t.task_id,
                    "text": t.text,
                    "task_type": t.task_type,
                }
                for t in release.tasks
            }.values()
        ),
        TaskDwa: [
            {"occupation_code": code, "task_id": task_id, "dwa_id": dwa_id}
            for code, task_id, dwa_id in sorted(set(release.task_dwas))
        ],
        Dwa: list(dwas.values()),
        SkillActivity: list(
            {
                (a.gwa_id, a.skill_element): {
                    "gwa_id": a.gwa_id,
                    "skill_element": a.skill_element,
                    "skill_name": a.skill_name,
                }
                for a in release.skill_activities
            }.values()
        ),
        OccupationSkillRating: [
            {
                "occupation_code": r.occupation_code,
                "element_id": r.element_id,
                "element_name": r.element_name,
                "importance": r.importance,
                "level": r.level,
            }
            for r in release.ratings
        ],
        OccupationTechnology: list(
            {
                (t.occupation_code, t.product_id): {
                    "occupation_code": t.occupation_code,
                    "product_id": t.product_id,
                    "product": t.product,
                    "hot": t.hot,
                    "listed_by": t.listed_by,
                    "in_demand": t.in_demand,
                }
                for t in release.technologies
            }.values()
        ),
    }


async def replace_release(session: AsyncSession, release: onet.JobRelease) -> int:
    """Swap the stored release for this one; the caller commits, so readers never see half
    of one. Returns the number of rows written."""
    tables = release_rows(release)
    for table in RELEASE_TABLES:
        await session.execute(sa.delete(table))
    written = 0
    for table in reversed(RELEASE_TABLES):
        rows = tables[table]
        for start in range(0, len(rows), BATCH):
            await session.execute(sa.insert(table), rows[start : start + BATCH])
        written += len(rows)
    return written


async def run_job_import(
    db: Database, job_id: uuid.UUID, path: Path, cleanup: Callable[[], None] | None = None
) -> None:
    """Read the release off the event loop, then replace the stored one in one transaction."""
    try:
        release = await asyncio.to_thread(onet.read_job_release, path)
        async with db.sessions() as session:
            written = await replace_release(session, release)
            await session.execute(
                sa.update(OnetImport)
                .where(OnetImport.id == job_id)
                .values(
                    status="succeeded",
                    source_version=release.version,
                    attribution=release.attribution,
                    warnings=release.warnings[:MAX_WARNINGS],
                    occupations=len(release.occupations),
                    tasks=len(release.tasks),
                    rows=written,
                    finished_at=now(),
                )
            )
            await session.commit()
    except Exception as exc:
        log.exception("O*NET import %s failed", job_id)
        async with db.sessions() as session:
            await session.execute(
                sa.update(OnetImport)
                .where(OnetImport.id == job_id)
                .values(status="failed", error=f"{type(exc).__name__}: {exc}", finished_at=now())
            )
            await session.commit()
    finally:
        if cleanup is not None:
            cleanup()


async def get_job_import(session: AsyncSession, job_id: uuid.UUID) -> OnetImport:
    job = await session.get(OnetImport, job_id)
    if job is None:
        raise JobImportNotFound(f"No O*NET import with id {job_id}.")
    return job


async def fail_interrupted_job_imports(db: Database) -> int:
    """At start-up; running it again is safe: an import replaces the release as a whole."""
    return await fail_interrupted(
        db, OnetImport, "interrupted by a restart; run the import again (it replaces the release)"
    )
