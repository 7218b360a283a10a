"""Matching use cases over the read models: shortlists for a task, recommendations for a
worker, and the verdict for one pair."""

import uuid
from dataclasses import asdict
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.errors import Forbidden
from services.kernel.pagination import decode_cursor, encode_cursor
from services.matching.models import TaskNotKnown, TaskView, WorkerNotKnown, WorkerView
from services.matching.schemas import CandidateRead, CandidateVerdict, RecommendationRead
from services.matching.scoring import Fit, fit

T = TypeVar("T")


async def get_task_view(session: AsyncSession, task_id: uuid.UUID) -> TaskView:
    task = await session.get(TaskView, task_id)
    if task is None:
        raise TaskNotKnown(f"Matching does not know task {task_id} (yet).")
    return task


async def get_worker_view(session: AsyncSession, worker_id: uuid.UUID) -> WorkerView:
    worker = await session.get(WorkerView, worker_id)
    if worker is None:
        raise WorkerNotKnown(f"Matching does not know worker {worker_id} (yet).")
    return worker


def _fit(task: TaskView, worker: WorkerView) -> Fit:
    return fit(
        task.required_skills,
        task.hours_per_week,
        task.owner_id,
        str(worker.id),
        worker.skills,
        worker.weekly_hours,
    )


def _page(ranked: list[T], limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    start = decode_cursor(cursor, [int])[0] if cursor else 0
    page = ranked[start : start + limit]
    more = start + limit < len(ranked)
    return page, encode_cursor([start + limit]) if more else None


async def list_candidates(
    session: AsyncSession, task_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[CandidateRead], str | None]:
    task = await get_task_view(session, task_id)
    if task.status != "open":
        return [], None
    must_have = {s["skill_id"] for s in task.required_skills if s.get("required", True)}
    workers = await session.scalars(sa.select(WorkerView).where(WorkerView.status == "active"))
    ranked: list[CandidateRead] = []
    for worker in workers:
        if not must_have <= {s["skill_id"] for s in worker.skills}:
            continue
        result = _fit(task, worker)
        if result.eligible:
            ranked.append(
                CandidateRead(
                    worker_id=worker.id,
                    name=worker.name,
                    org_unit=worker.org_unit,
                    score=result.score,
                    matched=[asdict(m) for m in result.matched],
                    gaps=[asdict(g) for g in result.gaps],
                )
            )
    ranked.sort(key=lambda c: (-c.score, str(c.worker_id)))
    return _page(ranked, limit, cursor)


async def judge_candidate(
    session: AsyncSession, task_id: uuid.UUID, worker_id: uuid.UUID
) -> CandidateVerdict:
    task = await get_task_view(session, task_id)
    worker = await get_worker_view(session, worker_id)
    result = _fit(task, worker)
    excluded_by = result.excluded_by
    if task.status != "open":
        excluded_by = f"the task is {task.status}"
    elif worker.status != "active":
        excluded_by = "the worker is not active"
    return CandidateVerdict(
        worker_id=worker.id,
        name=worker.name,
        org_unit=worker.org_unit,
        score=result.score,
        matched=[asdict(m) for m in result.matched],
        gaps=[asdict(g) for g in result.gaps],
        eligible=excluded_by is None,
        excluded_by=excluded_by,
    )


def ensure_may_see_worker(worker_id: uuid.UUID, user: CurrentUser) -> None:
    if not user.has_any("manager", "admin", "service") and user.worker_id != str(worker_id):
        raise Forbidden("You may only see your own recommendations.")


async def list_recommendations(
    session: AsyncSession, worker_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[RecommendationRead], str | None]:
    worker = await get_worker_view(session, worker_id)
    tasks = await session.scalars(sa.select(TaskView).where(TaskView.status == "open"))
    ranked: list[RecommendationRead] = []
    for task in tasks:
        result = _fit(task, worker)
        if result.eligible:
            ranked.append(
                RecommendationRead(
                    task_id=task.id,
                    title=task.title,
                    score=result.score,
                    hours_per_week=task.hours_per_week,
                    start_date=task.start_date,
                    end_date=task.end_date,
                    matched=[asdict(m) for m in result.matched],
                    gaps=[asdict(g) for g in result.gaps],
                )
            )
    ranked.sort(key=lambda r: (-r.score, r.start_date, str(r.task_id)))
    return _page(ranked, limit, cursor)
