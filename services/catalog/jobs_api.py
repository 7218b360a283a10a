"""Job routes: deconstruct an O*NET occupation into draft tasks, and import the O*NET release
that deconstruction reads. Each route calls one use case of jobs.py."""

import uuid
from datetime import date, datetime
from typing import Annotated, Self

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog import job_imports, jobs
from services.catalog.deconstruct import DraftTask
from services.catalog.models import Task
from services.catalog.schemas import TaskRead
from services.kernel.auth import CurrentUser, machine_scope, require_roles
from services.kernel.errors import InvalidInput
from services.kernel.jobs import remove_tree, save_uploads
from services.kernel.web import PROBLEM_RESPONSES, db_session

router = APIRouter(
    prefix="/v1",
    tags=["jobs"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(machine_scope(lambda _: "tasks"))],
)
Session = Annotated[AsyncSession, Depends(db_session)]
Manager = Annotated[CurrentUser, Depends(require_roles("manager", "admin"))]
Admin = Annotated[CurrentUser, Depends(require_roles("admin"))]


class JobDeconstruct(BaseModel):
    """An O*NET occupation by code, or a described job (a title and its task statements)."""

    model_config = ConfigDict(extra="forbid")

    occupation_code: str | None = Field(
        default=None, pattern=r"^\d{2}-\d{4}\.\d{2}$", examples=["15-2051.00"]
    )
    include_supplemental: bool = False
    title: str | None = Field(default=None, min_length=1, max_length=200)
    task_texts: list[Annotated[str, Field(min_length=1, max_length=2000)]] | None = Field(
        default=None, min_length=1, max_length=100
    )
    hours_per_week: float = Field(default=4.0, gt=0, le=60)
    start_date: date | None = None
    weeks: int = Field(default=12, ge=1, le=260)
    org_unit: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def one_kind_of_job(self) -> Self:
        described = self.title is not None or self.task_texts is not None
        if (self.occupation_code is None) == (not described):
            raise ValueError("give either occupation_code, or title and task_texts")
        if described and (self.title is None or self.task_texts is None):
            raise ValueError("a described job needs both title and task_texts")
        return self


class RatedOccupation(BaseModel):
    code: str
    title: str


class JobRead(BaseModel):
    occupation_code: str | None
    title: str
    description: str
    ratings_from: RatedOccupation | None = Field(
        description="Whose O*NET skill ratings gave importance and levels: the occupation's own, "
        "or (O*NET rates only some occupations) its most related rated occupation."
    )
    source: str
    attribution: str


class PathRead(BaseModel):
    dwa: str
    gwa: str


class RequirementProvenance(BaseModel):
    skill_id: str
    label: str
    source: str = Field(
        description="'task links' (task → DWA → GWA → skill), 'hot technology' or 'text match'"
    )
    paths: list[PathRead]
    importance: float | None
    onet_level: float | None
    rated_by: str | None
    confidence: float | None


class DraftTaskRead(TaskRead):
    onet_task_id: int | None
    task_type: str | None
    needs_skills: bool = Field(description="No must-have skill could be derived from O*NET.")
    requirements_provenance: list[RequirementProvenance]


class JobDeconstructed(BaseModel):
    job: JobRead
    tasks: list[DraftTaskRead]


class JobImportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str
    source_version: str | None
    occupations: int
    tasks: int
    rows: int
    warnings: list[str]
    error: str | None
    attribution: str
    started_at: datetime
    finished_at: datetime | None


@router.post(
    "/jobs:deconstruct",
    status_code=201,
    response_model=JobDeconstructed,
    summary="Deconstruct an O*NET occupation (or a described job) into draft tasks",
)
async def deconstruct_job(
    data: JobDeconstruct, request: Request, session: Session, user: Manager
) -> JobDeconstructed:
    defaults = jobs.DraftDefaults(
        hours_per_week=data.hours_per_week,
        start_date=data.start_date,
        weeks=data.weeks,
        org_unit=data.org_unit,
    )
    if data.occupation_code is None:
        assert data.title is not None and data.task_texts is not None
        # An app may supply a better normaliser (profiles'); the default matches the labels
        # of the catalog's own copy of the taxonomy.
        normalizer = getattr(request.app.state, "skill_normalizer", None)
        if normalizer is None:
            normalizer = await jobs.skill_label_normalizer(session, request.app.state.labels)
        drafts = await jobs.deconstruct_described_job(
            session, data.title, data.task_texts, normalizer, user, defaults
        )
        return JobDeconstructed(
            job=JobRead(
                occupation_code=None,
                title=data.title,
                description="",
                ratings_from=None,
                source="described",
                attribution="",
            ),
            tasks=[draft_read(task, draft) for task, draft in drafts],
        )
    job = await jobs.deconstruct_job(
        session,
        data.occupation_code,
        user,
        include_supplemental=data.include_supplemental,
        defaults=defaults,
    )
    rater = job.ratings_from
    return JobDeconstructed(
        job=JobRead(
            occupation_code=job.occupation.code,
            title=job.occupation.title,
            description=job.occupation.description,
            ratings_from=RatedOccupation(code=rater.code, title=rater.title) if rater else None,
            source=jobs.source_label(job.source_version),
            attribution=job.attribution,
        ),
        tasks=[draft_read(task, draft) for task, draft in job.drafts],
    )


def draft_read(task: Task, draft: DraftTask) -> DraftTaskRead:
    return DraftTaskRead(
        **TaskRead.of(task).model_dump(),
        onet_task_id=draft.source_task_id,
        task_type=draft.task_type,
        needs_skills=draft.has_no_skill,
        requirements_provenance=[
            RequirementProvenance.model_validate(r.provenance()) for r in draft.requirements
        ],
    )


@router.post(
    "/job-imports",
    status_code=202,
    response_model=JobImportRead,
    summary="Import the O*NET text release (its zip) that job deconstruction reads",
)
async def start_job_import(
    request: Request,
    session: Session,
    user: Admin,
    response: Response,
    files: Annotated[list[UploadFile], File(description="The O*NET text release zip")],
) -> JobImportRead:
    if len(files) != 1:
        raise InvalidInput("Send the O*NET text release as one zip.")
    folder, (path,) = await save_uploads(files, "taskforce-job-import-")
    job = await job_imports.start_job_import(session, user.sub)
    work = job_imports.run_job_import(request.app.state.db, job.id, path, remove_tree(folder))
    request.app.state.runtime.spawn(work, name=f"job-import-{job.id}")
    response.headers["Location"] = f"/v1/job-imports/{job.id}"
    return JobImportRead.model_validate(job)


@router.get(
    "/job-imports/{import_id}",
    response_model=JobImportRead,
    summary="Progress and outcome of an O*NET import",
)
async def get_job_import(import_id: uuid.UUID, session: Session, _: Admin) -> JobImportRead:
    return JobImportRead.model_validate(await job_imports.get_job_import(session, import_id))
