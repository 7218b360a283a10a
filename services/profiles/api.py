"""Profiles HTTP routes: each calls one use case."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser, User, require_roles
from services.kernel.idempotency import KeyHeader, claim, create_once
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import PROBLEM_RESPONSES, db_session
from services.profiles import service
from services.profiles.schemas import (
    SkillCreate,
    SkillRead,
    WorkerCreate,
    WorkerRead,
    WorkerSkillsReplace,
)

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)
Session = Annotated[AsyncSession, Depends(db_session)]
Admin = Annotated[CurrentUser, Depends(require_roles("admin"))]
Staff = Annotated[CurrentUser, Depends(require_roles("manager", "admin", "service"))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=1000)]


@router.post(
    "/skills",
    status_code=201,
    response_model=SkillRead,
    tags=["skills"],
    summary="Add a skill to the taxonomy",
)
async def create_skill(
    data: SkillCreate,
    session: Session,
    user: Admin,
    response: Response,
    idempotency_key: KeyHeader = None,
) -> SkillRead:
    claimed = claim(user.sub, idempotency_key, data)
    skill, replayed = await create_once(
        session,
        claimed,
        lambda: service.create_skill(session, data, claimed),
        lambda skill_id: service.get_skill(session, skill_id),
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/skills/{skill.id}"
    return SkillRead.model_validate(skill)


@router.get(
    "/skills", response_model=Page[SkillRead], tags=["skills"], summary="List or search skills"
)
async def list_skills(
    session: Session,
    _: User,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[SkillRead]:
    skills, next_cursor = await service.list_skills(session, q=q, limit=limit, cursor=cursor)
    return Page[SkillRead](
        items=[SkillRead.model_validate(s) for s in skills], next_cursor=next_cursor
    )


@router.get(
    "/skills/{skill_id:path}", response_model=SkillRead, tags=["skills"], summary="Read a skill"
)
async def get_skill(
    skill_id: Annotated[str, Path(max_length=300)], session: Session, _: User
) -> SkillRead:
    return SkillRead.model_validate(await service.get_skill(session, skill_id))


@router.post(
    "/workers",
    status_code=201,
    response_model=WorkerRead,
    tags=["workers"],
    summary="Register a worker",
)
async def register_worker(
    data: WorkerCreate,
    session: Session,
    user: Staff,
    response: Response,
    idempotency_key: KeyHeader = None,
) -> WorkerRead:
    claimed = claim(user.sub, idempotency_key, data)
    worker, replayed = await create_once(
        session,
        claimed,
        lambda: service.register_worker(session, data, claimed),
        lambda worker_id: service.get_worker(session, uuid.UUID(worker_id)),
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/workers/{worker.id}"
    response.headers["ETag"] = f'"{worker.version}"'
    return WorkerRead.model_validate(worker)


@router.get("/workers", response_model=Page[WorkerRead], tags=["workers"], summary="List workers")
async def list_workers(
    session: Session,
    _: Staff,
    org_unit: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[WorkerRead]:
    workers, next_cursor = await service.list_workers(
        session, org_unit=org_unit, limit=limit, cursor=cursor
    )
    return Page[WorkerRead](
        items=[WorkerRead.model_validate(w) for w in workers], next_cursor=next_cursor
    )


@router.get(
    "/workers/{worker_id}",
    response_model=WorkerRead,
    tags=["workers"],
    summary="Read a worker's profile",
)
async def get_worker(
    worker_id: uuid.UUID, session: Session, user: User, response: Response
) -> WorkerRead:
    worker = await service.get_worker(session, worker_id)
    service.ensure_may_access(worker, user)
    response.headers["ETag"] = f'"{worker.version}"'
    return WorkerRead.model_validate(worker)


@router.put(
    "/workers/{worker_id}/skills",
    response_model=WorkerRead,
    tags=["workers"],
    summary="Replace a worker's skills",
)
async def replace_worker_skills(
    worker_id: uuid.UUID,
    data: WorkerSkillsReplace,
    session: Session,
    user: User,
    response: Response,
) -> WorkerRead:
    worker = await service.replace_worker_skills(session, worker_id, data.skills, user)
    response.headers["ETag"] = f'"{worker.version}"'
    return WorkerRead.model_validate(worker)
