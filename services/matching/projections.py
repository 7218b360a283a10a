"""The matching index kept from the read-model tables: built from them when first needed (never
from the broker) and brought up to date by reading the rows the consumers changed since the
last look, so API and worker processes see the same events whether or not they consume."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.db import Database
from services.matching.assignments_models import Assignment
from services.matching.index import MatchIndex
from services.matching.ledger import all_loads, worker_load
from services.matching.models import SkillView, TaskView, WorkerView
from services.matching.records import task_record, taxonomy_of, worker_record

# A row committed late with an earlier timestamp is still seen: each look re-reads this much.
OVERLAP = timedelta(seconds=5)


async def build_index(session: AsyncSession) -> MatchIndex:
    index = MatchIndex(taxonomy_of(await session.scalars(sa.select(SkillView))))
    loads = await all_loads(session)
    for task in await session.scalars(sa.select(TaskView).where(TaskView.status == "open")):
        index.upsert_task(task_record(task))
    workers = await session.scalars(sa.select(WorkerView).where(WorkerView.status != "erased"))
    index.add_workers([worker_record(worker) for worker in workers], loads)
    return index


async def refresh_index(session: AsyncSession, index: MatchIndex, since: datetime) -> int:
    """Apply rows changed since `since`; returns how many. Upserts are idempotent, so the
    overlap re-applies a few rows harmlessly."""
    changed = 0
    skills = (await session.scalars(sa.select(SkillView).where(SkillView.synced_at > since))).all()
    if skills:
        index.set_taxonomy(taxonomy_of(await session.scalars(sa.select(SkillView))))
        changed += len(skills)
    for task in await session.scalars(sa.select(TaskView).where(TaskView.synced_at > since)):
        index.upsert_task(task_record(task))
        changed += 1
    touched = set()
    for worker in await session.scalars(sa.select(WorkerView).where(WorkerView.synced_at > since)):
        if worker.status == "erased":
            index.remove_worker(str(worker.id))
        else:
            index.upsert_worker(worker_record(worker), await worker_load(session, worker.id))
        touched.add(worker.id)
        changed += 1
    moved = await session.scalars(
        sa.select(Assignment.worker_id).where(Assignment.updated_at > since).distinct()
    )
    for worker_id in set(moved) - touched:
        if str(worker_id) in index.position:
            index.set_load(str(worker_id), await worker_load(session, worker_id))
            changed += 1
    return changed


class IndexKeeper:
    """One index per process, refreshed at most every `interval_s` when read."""

    def __init__(self, db: Database, interval_s: float = 0.2) -> None:
        self.db, self.interval_s = db, interval_s
        self.lock = asyncio.Lock()
        self._index: MatchIndex | None = None
        self._seen = datetime.min.replace(tzinfo=UTC)
        self._looked = 0.0

    async def current(self) -> MatchIndex:
        async with self.lock:
            if self._index is None or time.monotonic() - self._looked >= self.interval_s:
                started = datetime.now(UTC)
                async with self.db.sessions() as session:
                    if self._index is None:
                        self._index = await build_index(session)
                    else:
                        await refresh_index(session, self._index, self._seen - OVERLAP)
                self._seen, self._looked = started, time.monotonic()
            return self._index


def keeper_of(state: dict[str, object], db: Database, interval_s: float) -> IndexKeeper:
    """The process's keeper, kept on the runtime's state."""
    keeper = state.get("index")
    if not isinstance(keeper, IndexKeeper):
        keeper = state["index"] = IndexKeeper(db, interval_s)
    return keeper
