"""Matching use cases over the index and the read models: shortlists for a task,
recommendations for a worker, and the verdict for one pair ("why not me"), each saying
whether the worker showed interest."""

import uuid
from collections.abc import Iterable
from typing import TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.errors import Forbidden
from services.kernel.pagination import decode_cursor, encode_cursor
from services.matching.index import MatchIndex
from services.matching.interests_models import Interest
from services.matching.ledger import worker_load
from services.matching.models import SkillView, TaskNotKnown, TaskView, WorkerNotKnown, WorkerView
from services.matching.records import task_record, taxonomy_of, worker_record
from services.matching.schemas import CandidateRead, CandidateVerdict, RecommendationRead
from services.matching.scoring import NO_LOAD, evaluate

T = TypeVar("T")


async def get_task_view(session: AsyncSession, task_id: uuid.UUID) -> TaskView:
    task = await session.get(TaskView, task_id)
    if task is None:
        raise TaskNotKnown(f"Matching does not know task {task_id} (yet).")
    return task


async def get_worker_view(session: AsyncSession, worker_id: uuid.UUID) -> WorkerView:
    worker = await session.get(WorkerView, worker_id)
    if worker is None or worker.status == "erased":
        raise WorkerNotKnown(f"Matching does not know worker {worker_id} (yet).")
    return worker


async def interested_workers(
    session: AsyncSession, task_id: uuid.UUID, worker_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `worker_ids` showed interest in the task (one query for a page)."""
    ids = list(worker_ids)
    if not ids:
        return set()
    found = await session.scalars(
        sa.select(Interest.worker_id).where(
            Interest.task_id == task_id, Interest.worker_id.in_(ids)
        )
    )
    return set(found)


async def interested_tasks(
    session: AsyncSession, worker_id: uuid.UUID, task_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `task_ids` the worker showed interest in (one query for a page)."""
    ids = list(task_ids)
    if not ids:
        return set()
    found = await session.scalars(
        sa.select(Interest.task_id).where(
            Interest.worker_id == worker_id, Interest.task_id.in_(ids)
        )
    )
    return set(found)


async def skill_labels(session: AsyncSession, skill_ids: Iterable[str]) -> dict[str, str]:
    """Labels of the skills matching knows among `skill_ids` (one query for a page)."""
    ids = sorted(set(skill_ids))
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(SkillView.id, SkillView.label).where(SkillView.id.in_(ids))
    )
    return {skill_id: label for skill_id, label in rows}


def _skills_named(item: RecommendationRead) -> set[str]:
    lines = (*item.matched, *item.gaps)
    return (
        {line.skill_id for line in lines}
        | {line.via for line in lines if line.via}
        | set(item.learns)
    )


def _window(cursor: str | None, limit: int, total: int) -> tuple[int, int, str | None]:
    """Rank positions of one page; the cursor is the rank to start from."""
    start = decode_cursor(cursor, [int])[0] if cursor else 0
    end = min(start + limit, total)
    return start, end, encode_cursor([end]) if end < total else None


async def list_candidates(
    session: AsyncSession, index: MatchIndex, task_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[CandidateRead], str | None]:
    view = await get_task_view(session, task_id)
    if view.status != "open":
        return [], None
    task = index.tasks.get(str(task_id)) or task_record(view)
    found = index.task_candidates(task)
    ids = np.array(index.worker_ids(found.workers), dtype=object)
    order = np.lexsort((ids, -np.round(found.scores, 4))) if len(ids) else np.zeros(0, int)
    start, end, next_cursor = _window(cursor, limit, len(order))
    page: list[CandidateRead] = []
    for rank in order[start:end].tolist():
        pos = int(found.workers[rank])
        worker = index.records[pos]
        assert worker is not None
        verdict = evaluate(task, worker, index.taxonomy, index.loads.get(pos, NO_LOAD))
        page.append(
            CandidateRead(
                worker_id=uuid.UUID(worker.id),
                name=worker.name,
                org_unit=worker.org_unit,
                **verdict.explanation(),
            )
        )
    interested = await interested_workers(session, task_id, [c.worker_id for c in page])
    for candidate in page:
        candidate.interested = candidate.worker_id in interested
    return page, next_cursor


async def judge_candidate(
    session: AsyncSession, task_id: uuid.UUID, worker_id: uuid.UUID
) -> CandidateVerdict:
    """Straight from the tables and the ledger, so the answer is never stale."""
    task = task_record(await get_task_view(session, task_id))
    row = await get_worker_view(session, worker_id)
    taxonomy = taxonomy_of(await session.scalars(sa.select(SkillView)))
    load = await worker_load(session, worker_id)
    verdict = evaluate(task, worker_record(row), taxonomy, load)
    return CandidateVerdict(
        worker_id=row.id,
        name=row.name,
        org_unit=row.org_unit,
        interested=bool(await interested_workers(session, task_id, [worker_id])),
        eligible=verdict.eligible,
        excluded_by=verdict.excluded_by,
        **verdict.explanation(),
    )


def ensure_may_see_worker(worker_id: uuid.UUID, user: CurrentUser) -> None:
    if not user.has_any("manager", "admin", "service") and user.worker_id != str(worker_id):
        raise Forbidden("You may only see your own recommendations.")


async def list_recommendations(
    session: AsyncSession, index: MatchIndex, worker_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[RecommendationRead], str | None]:
    await get_worker_view(session, worker_id)
    pos = index.position.get(str(worker_id))
    worker = index.records[pos] if pos is not None else None
    if worker is None:
        return [], None
    load = index.loads.get(pos, NO_LOAD) if pos is not None else NO_LOAD
    ranked = []
    for task in index.open_tasks_for(worker.id):
        verdict = evaluate(task, worker, index.taxonomy, load)
        if verdict.eligible:
            ranked.append((task, verdict))
    ranked.sort(key=lambda pair: (-pair[1].score, pair[0].start_date, pair[0].id))
    start, end, next_cursor = _window(cursor, limit, len(ranked))
    page = [
        RecommendationRead(
            task_id=uuid.UUID(task.id),
            title=task.title,
            hours_per_week=task.hours_per_week,
            start_date=task.start_date,
            end_date=task.end_date,
            **verdict.explanation(),
        )
        for task, verdict in ranked[start:end]
    ]
    interested = await interested_tasks(session, worker_id, [item.task_id for item in page])
    named = {item.task_id: _skills_named(item) for item in page}
    labels = await skill_labels(session, set().union(*named.values()))
    for item in page:
        item.interested = item.task_id in interested
        item.skill_labels = {s: labels[s] for s in sorted(named[item.task_id]) if s in labels}
    return page, next_cursor
