"""Request and response bodies of the matching API."""

import uuid
from datetime import date

from pydantic import BaseModel


class SkillLineRead(BaseModel):
    skill_id: str
    min_level: int
    worker_level: int | None
    required: bool
    # 1 at or above the minimum level; level/minimum below it; 0.5 through a related skill.
    credit: float
    via: str | None = None


class HoursFitRead(BaseModel):
    per_week: float
    min_free_per_week: float
    weeks: int


class DatesFitRead(BaseModel):
    start_date: date
    end_date: date
    available_share: float


class ExplanationRead(BaseModel):
    """Why a worker and a task fit: each score component, the skills met and missed, what the
    worker would learn, and how hours and dates fit."""

    score: float
    components: dict[str, float]
    matched: list[SkillLineRead]
    gaps: list[SkillLineRead]
    learns: list[str]
    learning_seat: bool
    hours: HoursFitRead
    dates: DatesFitRead


class CandidateRead(ExplanationRead):
    worker_id: uuid.UUID
    name: str
    org_unit: str | None


class CandidateVerdict(CandidateRead):
    """One worker against one task, including why a worker is not a candidate."""

    eligible: bool
    excluded_by: str | None


class RecommendationRead(ExplanationRead):
    task_id: uuid.UUID
    title: str
    hours_per_week: float
    start_date: date
    end_date: date
