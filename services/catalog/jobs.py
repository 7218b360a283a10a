"""Job deconstruction use cases: an O*NET occupation or a described job becomes draft tasks,
over the release stored by job_imports.py and the catalog's copy of the taxonomy."""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog import onet
from services.catalog.deconstruct import (
    DraftTask,
    Normalizer,
    OccupationFacts,
    deconstruct_described,
    deconstruct_occupation,
    phrase_normalizer,
)
from services.catalog.jobs_models import (
    Dwa,
    JobReleaseMissing,
    Occupation,
    OccupationNotFound,
    OccupationSkillRating,
    OccupationTask,
    OccupationTechnology,
    OnetImport,
    SkillActivity,
    SkillLabelsMissing,
    TaskDwa,
)
from services.catalog.models import SkillRef, Task
from services.kernel.auth import CurrentUser
from services.kernel.labels import LabelCache
from services.kernel.normalize import SkillLabels

log = logging.getLogger("taskforce.catalog.jobs")
SOURCE_NAME = "O*NET"


@dataclass
class DraftDefaults:
    """What O*NET does not say about a task; the owner edits the drafts afterwards."""

    hours_per_week: float = 4.0
    start_date: date | None = None
    weeks: int = 12
    org_unit: str | None = None


@dataclass
class DeconstructedJob:
    occupation: Occupation
    ratings_from: Occupation | None
    source_version: str
    attribution: str
    drafts: list[tuple[Task, DraftTask]]


async def latest_release(session: AsyncSession) -> OnetImport:
    job = await session.scalar(
        sa.select(OnetImport)
        .where(OnetImport.status == "succeeded")
        .order_by(OnetImport.finished_at.desc())
        .limit(1)
    )
    if job is None:
        raise JobReleaseMissing(
            "No O*NET release has been imported yet; an admin imports it at /v1/job-imports."
        )
    return job


async def load_occupation_facts(session: AsyncSession, code: str) -> OccupationFacts:
    occupation = await session.get(Occupation, code)
    if occupation is None:
        raise OccupationNotFound(f"No occupation with O*NET-SOC code {code!r}.")
    tasks = list(
        await session.scalars(
            sa.select(OccupationTask).where(OccupationTask.occupation_code == code)
        )
    )
    dwas_of_task: dict[int, list[onet.Dwa]] = defaultdict(list)
    gwa_titles: dict[str, str] = {}
    linked = await session.execute(
        sa.select(TaskDwa.task_id, Dwa)
        .join(Dwa, Dwa.id == TaskDwa.dwa_id)
        .where(TaskDwa.occupation_code == code)
        .order_by(TaskDwa.task_id, Dwa.id)
    )
    for task_id, dwa in linked:
        dwas_of_task[task_id].append(onet.Dwa(dwa.id, dwa.title, dwa.iwa_id, dwa.gwa_id))
        gwa_titles[dwa.gwa_id] = dwa.gwa_title
    skills_of_gwa: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for link in await session.scalars(
        sa.select(SkillActivity).order_by(SkillActivity.gwa_id, SkillActivity.skill_element)
    ):
        skills_of_gwa[link.gwa_id].append((link.skill_element, link.skill_name))
    ratings = {
        r.element_id: onet.SkillRating(
            r.occupation_code, r.element_id, r.element_name, r.importance, r.level
        )
        for r in await session.scalars(
            sa.select(OccupationSkillRating).where(
                OccupationSkillRating.occupation_code == occupation.ratings_from
            )
        )
    }
    technologies = [
        onet.Technology(code, t.product, t.product_id, t.hot, t.listed_by, t.in_demand)
        for t in await session.scalars(
            sa.select(OccupationTechnology).where(OccupationTechnology.occupation_code == code)
        )
    ]
    return OccupationFacts(
        occupation=onet.Occupation(
            occupation.code, occupation.title, occupation.description, occupation.ratings_from
        ),
        tasks=[onet.TaskStatement(code, t.task_id, t.text, t.task_type) for t in tasks],
        dwas_of_task=dict(dwas_of_task),
        gwa_titles=gwa_titles,
        skills_of_gwa=dict(skills_of_gwa),
        ratings=ratings,
        technologies=technologies,
    )


def draft_task(
    draft: DraftTask, owner: str, defaults: DraftDefaults, source: dict[str, str]
) -> Task:
    """A draft as a catalog task, built as `service.create_task` builds one. A draft may lack
    a must-have skill (O*NET linked none); its owner adds one before publishing it."""
    start = defaults.start_date or datetime.now(UTC).date()
    created = datetime.now(UTC)
    return Task(
        id=uuid.uuid4(),
        version=1,
        kind="task",
        title=draft.title,
        description=draft.description,
        org_unit=defaults.org_unit,
        owner_id=owner,
        status="draft",
        required_skills=[r.skill() for r in draft.requirements],
        hours_per_week=defaults.hours_per_week,
        effort_hours=None,
        start_date=start,
        end_date=start + timedelta(weeks=defaults.weeks),
        seats=1,
        learning_seats=0,
        remote=True,
        location=None,
        seats_filled=0,
        source=source,
        created_at=created,
        updated_at=created,
    )


async def deconstruct_job(
    session: AsyncSession,
    occupation_code: str,
    user: CurrentUser,
    include_supplemental: bool = False,
    defaults: DraftDefaults | None = None,
) -> DeconstructedJob:
    """One draft task per task statement of the occupation, owned by the caller."""
    release = await latest_release(session)
    facts = await load_occupation_facts(session, occupation_code)
    drafts = deconstruct_occupation(facts, include_supplemental)
    tasks = [
        draft_task(
            draft,
            user.sub,
            defaults or DraftDefaults(),
            {
                "kind": "onet",
                "release": source_label(release.source_version or "unknown"),
                "occupation_code": facts.occupation.code,
                "occupation": facts.occupation.title,
                "task_id": str(draft.source_task_id),
                "task_type": draft.task_type or "n/a",
            },
        )
        for draft in drafts
    ]
    session.add_all(tasks)
    await session.commit()
    occupation = await session.get(Occupation, occupation_code)
    assert occupation is not None
    ratings_from = occupation.ratings_from
    return DeconstructedJob(
        occupation=occupation,
        ratings_from=await session.get(Occupation, ratings_from) if ratings_from else None,
        source_version=release.source_version or "unknown",
        attribution=release.attribution,
        drafts=list(zip(tasks, drafts, strict=True)),
    )


def provenance(draft: DraftTask) -> list[dict[str, object]]:
    return [r.provenance() for r in draft.requirements]


def source_label(version: str) -> str:
    return f"{SOURCE_NAME} {version}"


async def deconstruct_described_job(
    session: AsyncSession,
    title: str,
    task_texts: list[str],
    normalizer: Normalizer,
    user: CurrentUser,
    defaults: DraftDefaults | None = None,
) -> list[tuple[Task, DraftTask]]:
    """One draft task per task text, its skills matched by the given normaliser."""
    drafts = deconstruct_described(title, task_texts, normalizer)
    source = {"kind": "described", "job_title": title}
    tasks = [draft_task(d, user.sub, defaults or DraftDefaults(), source) for d in drafts]
    session.add_all(tasks)
    await session.commit()
    return list(zip(tasks, drafts, strict=True))


async def _skill_labels(session: AsyncSession) -> list[SkillLabels]:
    rows = await session.execute(
        sa.select(SkillRef.id, SkillRef.label, SkillRef.alt_labels, SkillRef.skill_type)
    )
    return [SkillLabels(r.id, r.label, tuple(r.alt_labels), r.skill_type) for r in rows]


async def _skills_revision(session: AsyncSession) -> object:
    """Any upsert of the local copy changes the count or the sum of versions."""
    result = await session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(SkillRef.version), 0))
    )
    return tuple(result.one())


def new_label_cache() -> LabelCache:
    """A label index over the catalog's copy of the taxonomy, to read skills out of text."""
    return LabelCache(load=_skill_labels, revision=_skills_revision)


async def skill_label_normalizer(session: AsyncSession, labels: LabelCache) -> Normalizer:
    """Profiles' normalisation over the catalog's copy of the taxonomy labels."""
    if not await session.scalar(sa.select(sa.func.count()).select_from(SkillRef)):
        raise SkillLabelsMissing(
            "The catalog has no skill labels yet to match task texts against; they arrive "
            "from profiles once its taxonomy is imported."
        )
    return phrase_normalizer(await labels.current(session))
