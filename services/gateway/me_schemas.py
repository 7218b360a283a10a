"""The compact bodies of the mobile gig app's `/v1/me` API. Each drops what the app does not
show; validating an upstream's answer into one of them is most of the compaction."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from services.kernel.contracts.catalog import TaskStatus
from services.kernel.contracts.matching import AssignmentStatus


class MeSkill(BaseModel):
    skill_id: str
    level: int


class MeAspiration(BaseModel):
    skill_id: str
    target_level: int


class MeDates(BaseModel):
    start_date: date
    end_date: date


class MeWeek(BaseModel):
    """One ISO week of the hours ledger; `remaining_hours` is negative when over-committed."""

    week: str = Field(examples=["2026-W48"])
    week_start: date
    capacity_hours: float
    committed_hours: float
    remaining_hours: float


class MeProfile(BaseModel):
    """The worker in the token: what they keep current, and the hours of the coming weeks."""

    id: uuid.UUID
    version: int = Field(description="Send it as `If-Match` when editing the profile")
    name: str
    status: str
    weekly_hours: float
    skills: list[MeSkill]
    aspirations: list[MeAspiration]
    availability: list[MeDates]
    blackouts: list[MeDates]
    hours: list[MeWeek] | None = Field(
        description="This week and the next three; null until matching knows the worker"
    )


class MeCommitment(BaseModel):
    assignment_id: uuid.UUID
    task_id: uuid.UUID
    hours: float


class MeLedgerWeek(MeWeek):
    assignments: list[MeCommitment]


class MeLedger(BaseModel):
    weekly_hours: float
    weeks: list[MeLedgerWeek]


class MeSkillRef(BaseModel):
    skill_id: str
    label: str | None = None


class MeRecommendation(BaseModel):
    """Open work ranked for the worker: why it fits, what they would learn, hours and dates."""

    task_id: uuid.UUID
    title: str
    score: float
    why: str = Field(examples=["Uses your Python and SQL; fits your free hours"])
    learns: list[MeSkillRef]
    learning_seat: bool = Field(description="Offered as a stretch, one level below the ask")
    hours_per_week: float
    start_date: date
    end_date: date
    interested: bool


class MeInterest(BaseModel):
    task_id: uuid.UUID
    title: str
    task_status: TaskStatus
    task_open: bool = Field(description="False while the task is filled or in progress")
    created_at: datetime


class MeAssignment(BaseModel):
    """An offer or a piece of work; `version` is what `If-Match` takes on accept or decline."""

    id: uuid.UUID
    version: int
    task_id: uuid.UUID
    title: str | None = Field(default=None, description="Null when the catalog could not say")
    status: AssignmentStatus
    learning_seat: bool
    hours_per_week: float
    start_date: date
    end_date: date
    approval_due_at: datetime | None
    updated_at: datetime


class MeReason(BaseModel):
    """Why the worker declines (optional)."""

    reason: str | None = Field(default=None, max_length=500)
