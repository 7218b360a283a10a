"""Request and response bodies of the assignment and hours-ledger routes."""

import uuid
from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, Field, model_validator

from services.kernel.contracts.matching import AssignmentStatus, DemonstratedSkill
from services.matching.assignments_models import Assignment


class AssignmentCreate(BaseModel):
    """Offer a task to a worker: either name both, or name a match run's proposal."""

    task_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    proposal_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        pair = self.task_id is not None and self.worker_id is not None
        partial = (self.task_id is None) != (self.worker_id is None)
        if partial or pair == (self.proposal_id is not None):
            raise ValueError("give either task_id and worker_id, or proposal_id alone")
        return self


class AssignmentReason(BaseModel):
    """Why an assignment was declined, withdrawn or cancelled (optional)."""

    reason: str | None = Field(default=None, max_length=500)


class AssignmentCompletion(BaseModel):
    """The skills the work showed (each one of the task's), with an optional endorsed level."""

    skills: list[DemonstratedSkill] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        ids = [skill.skill_id for skill in self.skills]
        if len(ids) != len(set(ids)):
            raise ValueError("each skill may be named once")
        return self


class AssignmentRead(BaseModel):
    id: uuid.UUID
    version: int
    task_id: uuid.UUID
    worker_id: uuid.UUID
    status: AssignmentStatus
    learning_seat: bool
    hours_per_week: float
    start_date: date
    end_date: date
    offered_by: str
    match_run_id: uuid.UUID | None
    proposal_id: uuid.UUID | None
    score: float | None
    approval_due_at: datetime | None
    approved_by: str | None
    endorsed_skills: list[DemonstratedSkill]
    completed_on: date | None
    reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, assignment: Assignment) -> "AssignmentRead":
        return cls.model_validate(assignment, from_attributes=True)


class LedgerEntryRead(BaseModel):
    assignment_id: uuid.UUID
    task_id: uuid.UUID
    hours: float


class LedgerWeekRead(BaseModel):
    week: str = Field(examples=["2026-W48"])
    week_start: date
    capacity_hours: float
    committed_hours: float
    # Negative when the worker is committed beyond their capacity.
    remaining_hours: float
    assignments: list[LedgerEntryRead]


class LedgerRead(BaseModel):
    worker_id: uuid.UUID
    weekly_hours: float
    weeks: list[LedgerWeekRead]
