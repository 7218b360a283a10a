"""Profiles HTTP routes: each calls one use case."""

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi import (
    Path as PathParam,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser, User, machine_scope, require_roles
from services.kernel.errors import InvalidInput
from services.kernel.idempotency import KeyHeader, claim, create_once, mark_created
from services.kernel.jobs import remove_tree, save_uploads
from services.kernel.labels import LabelCache
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import PROBLEM_RESPONSES, IfMatch, db_session
from services.profiles import imports, skills, workers
from services.profiles.models import Worker
from services.profiles.schemas import (
    BulkResult,
    NormalizeRequest,
    NormalizeResponse,
    NormalizeResult,
    SkillCreate,
    SkillDetail,
    SkillImportRead,
    SkillMatchRead,
    SkillRead,
    SkillUpdate,
    SkillVerification,
    WorkerCreate,
    WorkerRead,
    WorkerSkillsReplace,
    WorkerUpdate,
)


def resource_of(path: str) -> str:
    """The resource a machine client's scope names: the taxonomy is `skills`, the rest
    `workers`."""
    return "skills" if path.startswith(("/v1/skills", "/v1/skill-imports")) else "workers"


router = APIRouter(
    prefix="/v1", responses=PROBLEM_RESPONSES, dependencies=[Depends(machine_scope(resource_of))]
)
Session = Annotated[AsyncSession, Depends(db_session)]
Admin = Annotated[CurrentUser, Depends(require_roles("admin"))]
Staff = Annotated[CurrentUser, Depends(require_roles("manager", "admin", "service"))]
Bulk = Annotated[CurrentUser, Depends(require_roles("admin", "service"))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=1000)]
SkillIdPath = Annotated[str, PathParam(max_length=300)]


def labels(request: Request) -> LabelCache:
    return request.app.state.labels


Labels = Annotated[LabelCache, Depends(labels)]


def etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def answer(worker: Worker, user: CurrentUser, response: Response) -> WorkerRead:
    """A worker as this caller may see them, with the version as ETag."""
    etag(response, worker.version)
    return workers.present(worker, user)


# -- skills ------------------------------------------------------------------------------


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
        lambda: skills.create_skill(session, data, claimed),
        lambda skill_id: skills.get_skill(session, skill_id),
    )
    mark_created(response, f"/v1/skills/{skill.id}", replayed)
    etag(response, skill.version)
    return SkillRead.model_validate(skill)


@router.get(
    "/skills",
    response_model=Page[SkillRead],
    tags=["skills"],
    summary="List skills, or search them by label with ranking (`q`)",
)
async def list_skills(
    session: Session,
    _: User,
    cache: Labels,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[SkillRead]:
    found, next_cursor = await skills.list_skills(session, cache, q=q, limit=limit, cursor=cursor)
    return Page[SkillRead](
        items=[SkillRead.model_validate(s) for s in found], next_cursor=next_cursor
    )


@router.post(
    "/skills:normalize",
    response_model=NormalizeResponse,
    tags=["skills"],
    summary="Map free text to canonical skills, best match first",
)
async def normalize_skills(
    data: NormalizeRequest, session: Session, _: User, cache: Labels
) -> NormalizeResponse:
    matches = await skills.normalize_texts(session, cache, data.texts)
    return NormalizeResponse(
        results=[
            NormalizeResult(
                text=text,
                matches=[
                    SkillMatchRead(
                        skill_id=m.skill_id,
                        label=m.label,
                        matched_label=m.matched_label,
                        confidence=round(m.confidence, 4),
                    )
                    for m in found
                ],
            )
            for text, found in zip(data.texts, matches, strict=True)
        ]
    )


@router.get(
    "/skills/{skill_id:path}",
    response_model=SkillDetail,
    tags=["skills"],
    summary="Read a skill with its narrower skills and the source's attribution",
)
async def get_skill(
    skill_id: SkillIdPath, session: Session, _: User, response: Response
) -> SkillDetail:
    skill = await skills.get_skill(session, skill_id)
    etag(response, skill.version)
    detail = SkillDetail.model_validate(skill)
    detail.narrower = await skills.narrower_of(session, skill_id)
    if skill.source in ("esco", "onet"):
        detail.attribution = await imports.latest_attribution(session, skill.source)
    return detail


@router.patch(
    "/skills/{skill_id:path}",
    response_model=SkillRead,
    tags=["skills"],
    summary="Edit a skill (If-Match honoured)",
)
async def update_skill(
    skill_id: SkillIdPath,
    data: SkillUpdate,
    session: Session,
    _: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> SkillRead:
    skill = await skills.update_skill(session, skill_id, data, if_match)
    etag(response, skill.version)
    return SkillRead.model_validate(skill)


@router.post(
    "/skill-imports",
    status_code=202,
    response_model=SkillImportRead,
    tags=["skills"],
    summary="Import a taxonomy release (ESCO CSV zips or O*NET text)",
)
async def start_skill_import(
    request: Request,
    session: Session,
    user: Admin,
    response: Response,
    source: Annotated[Literal["esco", "onet"], Form()],
    files: Annotated[
        list[UploadFile],
        File(description="ESCO: the classification zip(s); O*NET: the text release zip"),
    ],
) -> SkillImportRead:
    if not 1 <= len(files) <= 4:
        raise InvalidInput("Send one to four files.")
    folder, paths = await save_uploads(files, "taskforce-import-")
    job = await imports.start_import(session, source, user.sub)
    task = imports.run_import(request.app.state.db, job.id, paths, remove_tree(folder))
    request.app.state.runtime.spawn(task, name=f"skill-import-{job.id}")
    response.headers["Location"] = f"/v1/skill-imports/{job.id}"
    return SkillImportRead.model_validate(job)


@router.get(
    "/skill-imports/{import_id}",
    response_model=SkillImportRead,
    tags=["skills"],
    summary="Progress and outcome of an import",
)
async def get_skill_import(import_id: uuid.UUID, session: Session, _: Admin) -> SkillImportRead:
    return SkillImportRead.model_validate(await imports.get_import(session, import_id))


# -- workers -----------------------------------------------------------------------------


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
    cache: Labels,
    response: Response,
    idempotency_key: KeyHeader = None,
) -> WorkerRead:
    claimed = claim(user.sub, idempotency_key, data)
    worker, replayed = await create_once(
        session,
        claimed,
        lambda: workers.register_worker(session, cache, data, user, claimed),
        lambda worker_id: workers.get_worker(session, uuid.UUID(worker_id)),
    )
    mark_created(response, f"/v1/workers/{worker.id}", replayed)
    return answer(worker, user, response)


@router.post(
    "/workers:bulk",
    response_model=BulkResult,
    tags=["workers"],
    summary="Upsert workers by external_id from NDJSON (HRIS feed)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def bulk_upsert_workers(
    request: Request, session: Session, user: Bulk, cache: Labels
) -> BulkResult:
    body = bytearray()
    async for chunk in request.stream():  # the size limit is enforced by BodyLimit
        body += chunk
    try:
        lines = body.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InvalidInput("The body is not UTF-8 NDJSON.") from exc
    if len(lines) > 50_000:
        raise InvalidInput("At most 50,000 lines per request.")
    return await workers.bulk_upsert_workers(session, cache, lines, user)


@router.get(
    "/workers", response_model=Page[WorkerRead], tags=["workers"], summary="List and filter workers"
)
async def list_workers(
    session: Session,
    user: Staff,
    org_unit: Annotated[str | None, Query(max_length=100)] = None,
    skill: Annotated[str | None, Query(max_length=300, description="a skill id")] = None,
    min_level: Annotated[int, Query(ge=1, le=5)] = 1,
    work_arrangement: Literal["employee", "contractor", "freelancer"] | None = None,
    status: Literal["active", "inactive"] | None = None,
    available_on: date | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[WorkerRead]:
    found, next_cursor = await workers.list_workers(
        session,
        user,
        org_unit=org_unit,
        skill_id=skill,
        min_level=min_level,
        work_arrangement=work_arrangement,
        status=status,
        available_on=available_on,
        limit=limit,
        cursor=cursor,
    )
    return Page[WorkerRead](
        items=[workers.present(w, user) for w in found], next_cursor=next_cursor
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
    worker = await workers.read_worker(session, worker_id, user)
    return answer(worker, user, response)


@router.patch(
    "/workers/{worker_id}",
    response_model=WorkerRead,
    tags=["workers"],
    summary="Update a worker (If-Match honoured)",
)
async def update_worker(
    worker_id: uuid.UUID,
    data: WorkerUpdate,
    session: Session,
    user: User,
    cache: Labels,
    response: Response,
    if_match: IfMatch = None,
) -> WorkerRead:
    worker = await workers.update_worker(session, cache, worker_id, data, user, if_match)
    return answer(worker, user, response)


@router.put(
    "/workers/{worker_id}/skills",
    response_model=WorkerRead,
    tags=["workers"],
    summary="Replace a worker's skills (If-Match honoured)",
)
async def replace_worker_skills(
    worker_id: uuid.UUID,
    data: WorkerSkillsReplace,
    session: Session,
    user: User,
    cache: Labels,
    response: Response,
    if_match: IfMatch = None,
) -> WorkerRead:
    worker = await workers.replace_worker_skills(
        session, cache, worker_id, data.skills, user, if_match
    )
    return answer(worker, user, response)


@router.post(
    "/workers/{worker_id}/skills/{skill_id:path}:verify",
    response_model=WorkerRead,
    tags=["workers"],
    summary="A line manager verifies a report's skill",
)
async def verify_worker_skill(
    worker_id: uuid.UUID,
    skill_id: SkillIdPath,
    data: SkillVerification,
    session: Session,
    user: User,
    response: Response,
) -> WorkerRead:
    worker = await workers.verify_worker_skill(session, worker_id, skill_id, data.level, user)
    return answer(worker, user, response)


@router.post(
    "/workers/{worker_id}:deactivate",
    response_model=WorkerRead,
    tags=["workers"],
    summary="Take a worker out of the marketplace",
)
async def deactivate_worker(
    worker_id: uuid.UUID, session: Session, user: User, response: Response
) -> WorkerRead:
    worker = await workers.set_worker_status(session, worker_id, "inactive", user)
    return answer(worker, user, response)


@router.post(
    "/workers/{worker_id}:activate",
    response_model=WorkerRead,
    tags=["workers"],
    summary="Bring a worker back into the marketplace",
)
async def activate_worker(
    worker_id: uuid.UUID, session: Session, user: User, response: Response
) -> WorkerRead:
    worker = await workers.set_worker_status(session, worker_id, "active", user)
    return answer(worker, user, response)


@router.delete(
    "/workers/{worker_id}",
    status_code=204,
    tags=["workers"],
    summary="Erase a worker (GDPR): personal data removed, consumers told to forget",
)
async def erase_worker(worker_id: uuid.UUID, session: Session, user: User) -> Response:
    await workers.erase_worker(session, worker_id, user)
    return Response(status_code=204)
