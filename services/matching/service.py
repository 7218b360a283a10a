"""Matching use cases over the read models: shortlists for a task, recommendations for a
worker, and the verdict for one pair."""

import uuid
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.errors import Forbidden
from services.kernel.pagination import decode_cursor, encode_cursor
from services.matching.models import SkillView, TaskNotKnown, TaskView, WorkerNotKnown, WorkerView
from services.matching.records import task_record, taxonomy_of, worker_record
from services.matching.schemas import CandidateRead, CandidateVerdict, RecommendationRead
from services.matching.scoring import evaluate

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


async def _taxonomy(session: AsyncSession) -> dict[str, set[str]]:
    return taxonomy_of(await session.scalars(sa.select(SkillView)))


def _page(ranked: list[T], limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    start = decode_cursor(cursor, [int])[0] if cursor else 0
    page = ranked[start : start + limit]
    more = start + limit < len(ranked)
    return page, encode_cursor([start + limit]) if more else None


async def list_candidates(
    session: AsyncSession, task_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[CandidateRead], str | None]:
    task = task_record(await get_task_view(session, task_id))
    taxonomy = await _taxonomy(session)
    workers = await session.scalars(sa.select(WorkerView).where(WorkerView.status == "active"))
    ranked: list[CandidateRead] = []
    for row in workers:
        verdict = evaluate(task, worker_record(row), taxonomy)
        if verdict.eligible:
            ranked.append(
                CandidateRead(
                    worker_id=row.id, name=row.name, org_unit=row.org_unit, **verdict.explanation()
                )
            )
    ranked.sort(key=lambda c: (-c.score, str(c.worker_id)))
    return _page(ranked, limit, cursor)


async def judge_candidate(
    session: AsyncSession, task_id: uuid.UUID, worker_id: uuid.UUID
) -> CandidateVerdict:
    task = task_record(await get_task_view(session, task_id))
    row = await get_worker_view(session, worker_id)
    verdict = evaluate(task, worker_record(row), await _taxonomy(session))
    return CandidateVerdict(
        worker_id=row.id,
        name=row.name,
        org_unit=row.org_unit,
        eligible=verdict.eligible,
        excluded_by=verdict.excluded_by,
        **verdict.explanation(),
    )


def ensure_may_see_worker(worker_id: uuid.UUID, user: CurrentUser) -> None:
    if not user.has_any("manager", "admin", "service") and user.worker_id != str(worker_id):
        raise Forbidden("You may only see your own recommendations.")


async def list_recommendations(
    session: AsyncSession, worker_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[RecommendationRead], str | None]:
    worker = worker_record(await get_worker_view(session, worker_id))
    taxonomy = await _taxonomy(session)
    tasks = await session.scalars(sa.select(TaskView).where(TaskView.status == "open"))
    ranked: list[RecommendationRead] = []
    for row in tasks:
        verdict = evaluate(task_record(row), worker, taxonomy)
        if verdict.eligible:
            ranked.append(
                RecommendationRead(
                    task_id=row.id,
                    title=row.title,
                    hours_per_week=row.hours_per_week,
                    start_date=row.start_date,
                    end_date=row.end_date,
                    **verdict.explanation(),
                )
            )
    ranked.sort(key=lambda r: (-r.score, r.start_date, str(r.task_id)))
    return _page(ranked, limit, cursor)
