"""Profiles use cases: each loads, applies one rule, stages the event in the outbox and commits
once."""

import re
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.contracts.profiles import WorkerSkill
from services.kernel.errors import Forbidden
from services.kernel.idempotency import Claim
from services.kernel.outbox import add_event
from services.kernel.pagination import paginate, parse_datetime
from services.profiles.models import (
    Skill,
    SkillAlreadyExists,
    SkillNotFound,
    UnknownSkills,
    Worker,
    WorkerAlreadyExists,
    WorkerNotFound,
)
from services.profiles.schemas import SkillCreate, WorkerCreate

SOURCE = "/taskforce/profiles"


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:200] or "skill"


async def _ensure_skills_exist(session: AsyncSession, skill_ids: set[str], field: str) -> None:
    if not skill_ids:
        return
    found = set(await session.scalars(sa.select(Skill.id).where(Skill.id.in_(skill_ids))))
    missing = sorted(skill_ids - found)
    if missing:
        raise UnknownSkills(
            f"Unknown skill ids: {', '.join(missing[:10])}.",
            errors=[
                {
                    "loc": ["body", field],
                    "msg": f"unknown skill id {skill_id}",
                    "type": "unknown_skill",
                }
                for skill_id in missing[:50]
            ],
        )


async def create_skill(
    session: AsyncSession, data: SkillCreate, claimed: Claim | None = None
) -> Skill:
    skill_id = data.id or f"taskforce:{_slug(data.label)}"
    if await session.get(Skill, skill_id) is not None:
        raise SkillAlreadyExists(f"A skill with id {skill_id} already exists.")
    await _ensure_skills_exist(session, set(data.broader), "broader")
    await _ensure_skills_exist(session, set(data.related), "related")
    skill = Skill(**data.model_dump(exclude={"id"}), id=skill_id, version=1, source="taskforce")
    session.add(skill)
    add_event(session, skill.announced(), SOURCE)
    if claimed is not None:
        claimed.remember(session, skill.id)
    await session.commit()
    return skill


async def get_skill(session: AsyncSession, skill_id: str) -> Skill:
    skill = await session.get(Skill, skill_id)
    if skill is None:
        raise SkillNotFound(f"No skill with id {skill_id}.")
    return skill


async def list_skills(
    session: AsyncSession, *, q: str | None, limit: int, cursor: str | None
) -> tuple[list[Skill], str | None]:
    """Skills in label order; `q` matches a label or an alternative label, case-insensitive.
    (Ranked search and normalisation arrive with the taxonomy issue.)"""
    query = sa.select(Skill)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(Skill.label).like(pattern),
                sa.func.lower(sa.cast(Skill.alt_labels, sa.String)).like(pattern),
            )
        )
    return await paginate(session, query, [Skill.label, Skill.id], [str, str], limit, cursor)


async def register_worker(
    session: AsyncSession, data: WorkerCreate, claimed: Claim | None = None
) -> Worker:
    if data.external_id and await session.scalar(
        sa.select(Worker.id).where(Worker.external_id == data.external_id)
    ):
        raise WorkerAlreadyExists(f"A worker with external_id {data.external_id} exists.")
    await _ensure_skills_exist(session, {s.skill_id for s in data.skills}, "skills")
    await _ensure_skills_exist(session, set(data.aspirations), "aspirations")
    worker = Worker(
        **data.model_dump(exclude={"skills"}),
        id=uuid.uuid4(),
        version=0,
        status="active",
        skills=[],
    )
    session.add(worker)
    worker.replace_skills(data.skills)
    add_event(session, worker.registered(), SOURCE)
    if claimed is not None:
        claimed.remember(session, str(worker.id))
    await session.commit()
    return worker


async def get_worker(session: AsyncSession, worker_id: uuid.UUID) -> Worker:
    worker = await session.get(Worker, worker_id)
    if worker is None:
        raise WorkerNotFound(f"No worker with id {worker_id}.")
    return worker


def ensure_may_access(worker: Worker, user: CurrentUser) -> None:
    """A worker edits their own profile; managers, admins and the HRIS edit any."""
    if user.has_any("manager", "admin", "service"):
        return
    if user.worker_id != str(worker.id):
        raise Forbidden("You may only change your own profile.")


async def replace_worker_skills(
    session: AsyncSession, worker_id: uuid.UUID, skills: list[WorkerSkill], user: CurrentUser
) -> Worker:
    worker = await get_worker(session, worker_id)
    ensure_may_access(worker, user)
    await _ensure_skills_exist(session, {s.skill_id for s in skills}, "skills")
    add_event(session, worker.replace_skills(skills), SOURCE)
    await session.commit()
    return worker


async def list_workers(
    session: AsyncSession, *, org_unit: str | None, limit: int, cursor: str | None
) -> tuple[list[Worker], str | None]:
    query = sa.select(Worker)
    if org_unit:
        query = query.where(Worker.org_unit == org_unit)
    return await paginate(
        session, query, [Worker.created_at, Worker.id], [parse_datetime, uuid.UUID], limit, cursor
    )


async def snapshot_profiles(session: AsyncSession) -> int:
    """Stage the current state of every skill and worker, for consumers to rebuild from."""
    count = 0
    for skill in await session.scalars(sa.select(Skill).order_by(Skill.created_at)):
        add_event(session, skill.announced(), SOURCE)
        count += 1
    for worker in await session.scalars(sa.select(Worker).order_by(Worker.created_at)):
        add_event(session, worker.current_event(), SOURCE)
        count += 1
    return count
