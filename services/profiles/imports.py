"""Taxonomy imports: a release read by esco.py or onet.py is upserted in batches, each batch
with its events in one transaction. Re-importing the same release changes nothing; a newer
release updates skills in place. Runs in the background; its caller polls the progress."""

import asyncio
import logging
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.db import Database
from services.kernel.jobs import fail_interrupted
from services.kernel.outbox import add_event
from services.profiles.models import ImportNotFound, Skill, SkillImport, SkillRelation, now
from services.profiles.skills import SOURCE, bump_revision, write_relations
from services.profiles.taxonomy import Release, SkillRecord

log = logging.getLogger("taskforce.profiles.imports")
BATCH = 500
MAX_WARNINGS = 200


def read_release(source: str, paths: list[Path]) -> Release:
    """Parse a release with the importer for its source (blocking: run it in a thread)."""
    if source == "esco":
        from services.profiles.esco import read_esco

        return read_esco(paths)
    if source == "onet":
        from services.profiles.onet import read_onet

        if len(paths) != 1:
            raise ValueError("an O*NET release is one directory or one zip")
        return read_onet(paths[0])
    raise ValueError(f"unknown taxonomy source {source!r}")


def _apply(skill: Skill, record: SkillRecord, digest: str) -> None:
    skill.label, skill.alt_labels = record.label, list(record.alt_labels)
    skill.skill_type, skill.description = record.skill_type, record.description
    skill.source, skill.source_version = record.source, record.source_version
    skill.broader, skill.related = list(record.broader), list(record.related)
    skill.attributes, skill.content_hash = dict(record.attributes), digest


async def upsert_batch(session: AsyncSession, records: list[SkillRecord]) -> tuple[int, int, int]:
    """Create or update one batch of records; returns (created, updated, unchanged)."""
    existing = {
        s.id: s
        for s in await session.scalars(
            sa.select(Skill).where(Skill.id.in_([r.id for r in records]))
        )
    }
    created = updated = unchanged = 0
    touched: list[Skill] = []
    for record in records:
        digest = record.content_hash()
        skill = existing.get(record.id)
        if skill is not None and skill.content_hash == digest:
            unchanged += 1
            continue
        if skill is None:
            skill = Skill(id=record.id, version=1, created_at=now(), updated_at=now())
            session.add(skill)
            created += 1
        else:
            skill.version += 1
            skill.updated_at = now()
            updated += 1
        _apply(skill, record, digest)
        touched.append(skill)
    if touched:
        await session.execute(
            sa.delete(SkillRelation).where(SkillRelation.skill_id.in_([s.id for s in touched]))
        )
        for skill in touched:
            write_relations(session, skill)
            add_event(session, skill.announced(), SOURCE)
        await bump_revision(session)
    return created, updated, unchanged


async def start_import(session: AsyncSession, source: str, requested_by: str) -> SkillImport:
    job = SkillImport(
        id=uuid.uuid4(),
        source=source,
        status="running",
        total=0,
        processed=0,
        created=0,
        updated=0,
        unchanged=0,
        warnings=[],
        attribution="",
        requested_by=requested_by,
        started_at=now(),
    )
    session.add(job)
    await session.commit()
    return job


async def run_import(
    db: Database, job_id: uuid.UUID, paths: list[Path], cleanup: Callable[[], None] | None = None
) -> None:
    """Read the release, then upsert it batch by batch, recording progress as it goes."""
    try:
        async with db.sessions() as session:
            job = await session.get(SkillImport, job_id)
            assert job is not None
            source = job.source
        release = await asyncio.to_thread(read_release, source, paths)
        async with db.sessions() as session:
            job = await session.get(SkillImport, job_id)
            assert job is not None
            job.total, job.source_version = len(release.records), release.version
            job.attribution = release.attribution
            job.warnings = release.warnings[:MAX_WARNINGS]
            await session.commit()
        for start in range(0, len(release.records), BATCH):
            batch = release.records[start : start + BATCH]
            async with db.sessions() as session:
                created, updated, unchanged = await upsert_batch(session, batch)
                await session.execute(
                    sa.update(SkillImport)
                    .where(SkillImport.id == job_id)
                    .values(
                        processed=SkillImport.processed + len(batch),
                        created=SkillImport.created + created,
                        updated=SkillImport.updated + updated,
                        unchanged=SkillImport.unchanged + unchanged,
                    )
                )
                await session.commit()
        await _finish(db, job_id, "succeeded", None)
    except Exception as exc:
        log.exception("import %s failed", job_id)
        await _finish(db, job_id, "failed", f"{type(exc).__name__}: {exc}")
    finally:
        if cleanup is not None:
            cleanup()


async def _finish(db: Database, job_id: uuid.UUID, status: str, error: str | None) -> None:
    async with db.sessions() as session:
        await session.execute(
            sa.update(SkillImport)
            .where(SkillImport.id == job_id)
            .values(status=status, error=error, finished_at=now())
        )
        await session.commit()


async def get_import(session: AsyncSession, job_id: uuid.UUID) -> SkillImport:
    job = await session.get(SkillImport, job_id)
    if job is None:
        raise ImportNotFound(f"No import with id {job_id}.")
    return job


async def fail_interrupted_imports(db: Database) -> int:
    """At start-up; re-running an interrupted import is safe, since imports are idempotent."""
    return await fail_interrupted(
        db, SkillImport, "interrupted by a restart; run the import again (it is idempotent)"
    )


async def latest_attribution(session: AsyncSession, source: str) -> str | None:
    return await session.scalar(
        sa.select(SkillImport.attribution)
        .where(SkillImport.source == source, SkillImport.status == "succeeded")
        .order_by(SkillImport.finished_at.desc())
        .limit(1)
    )
