"""Request and response bodies of the matching API."""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator


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
    # The worker showed interest in the task (`PUT /v1/workers/{id}/interests/{task_id}`).
    interested: bool = False


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
    # The worker already showed interest in this task.
    interested: bool = False
    # Labels of the skills this item names (matched, gaps, learns), where matching knows them.
    skill_labels: dict[str, str] = Field(default_factory=dict)


class WeightsIn(BaseModel):
    """How much each score component counts in a run (normalised by their sum)."""

    skill_fit: float = Field(default=0.55, ge=0, le=10)
    learning: float = Field(default=0.2, ge=0, le=10)
    preference: float = Field(default=0.1, ge=0, le=10)
    availability: float = Field(default=0.15, ge=0, le=10)

    @model_validator(mode="after")
    def something_counts(self) -> "WeightsIn":
        if self.skill_fit + self.learning + self.preference + self.availability <= 0:
            raise ValueError("at least one weight must be positive")
        return self


class FairnessIn(BaseModel):
    # At most this many proposals for one worker in this run; none means no cap.
    max_proposals_per_worker: int | None = Field(default=None, ge=1, le=100)
    # Added to the score of a worker who had no offer in the last `recent_days` days.
    no_recent_opportunity_bonus: float = Field(default=0.0, ge=0, le=1)
    recent_days: int = Field(default=30, ge=1, le=365)


class MatchScope(BaseModel):
    """Exactly one of: these tasks, the open tasks of an org unit, or every open task."""

    task_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=20_000)
    org_unit: str | None = Field(default=None, min_length=1, max_length=100)
    all_open: bool = False

    @model_validator(mode="after")
    def exactly_one(self) -> "MatchScope":
        chosen = (self.task_ids is not None) + (self.org_unit is not None) + self.all_open
        if chosen != 1:
            raise ValueError("give exactly one of task_ids, org_unit or all_open: true")
        return self


class MatchRunCreate(BaseModel):
    scope: MatchScope
    weights: WeightsIn = Field(default_factory=WeightsIn)
    fairness: FairnessIn = Field(default_factory=FairnessIn)
    time_limit_s: float = Field(default=10.0, ge=1, le=600)


class MatchRunRead(BaseModel):
    id: uuid.UUID
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    phase: str
    progress: float
    requested_by: str
    scope: MatchScope
    weights: WeightsIn
    fairness: FairnessIn
    time_limit_s: float
    # tasks, workers, candidate_pairs, components, greedy_objective, objective, best_bound,
    # gap, solver_status, methods, candidates_s, solve_s, wall_s (objectives: sums of scores).
    statistics: dict[str, Any]
    error: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ProposalRead(BaseModel):
    id: uuid.UUID
    run_id: uuid.UUID
    task_id: uuid.UUID
    worker_id: uuid.UUID
    score: float
    learning_seat: bool
    explanation: ExplanationRead
    assignment_id: uuid.UUID | None
