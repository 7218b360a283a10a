"""Response bodies of the matching API."""

import uuid
from datetime import date

from pydantic import BaseModel


class SkillMatchRead(BaseModel):
    skill_id: str
    min_level: int
    worker_level: int | None
    required: bool


class CandidateRead(BaseModel):
    worker_id: uuid.UUID
    name: str
    org_unit: str | None
    score: float
    matched: list[SkillMatchRead]
    gaps: list[SkillMatchRead]


class CandidateVerdict(CandidateRead):
    """One worker against one task, including why a worker is not a candidate."""

    eligible: bool
    excluded_by: str | None


class RecommendationRead(BaseModel):
    task_id: uuid.UUID
    title: str
    score: float
    hours_per_week: float
    start_date: date
    end_date: date
    matched: list[SkillMatchRead]
    gaps: list[SkillMatchRead]
