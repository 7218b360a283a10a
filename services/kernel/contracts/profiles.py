"""Events on `profiles.workers` and `profiles.skills`, each with full state and version.

Worker events carry no contact details (email): consumers get what matching needs, no more.
"""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from services.kernel.contracts.catalog import TaskKind
from services.kernel.events import Event

WORKERS_TOPIC = "profiles.workers"
SKILLS_TOPIC = "profiles.skills"
SkillSource = Literal["self", "manager", "assessment", "earned", "imported"]
WorkerStatus = Literal["active", "inactive", "erased"]
WorkArrangement = Literal["employee", "contractor", "freelancer"]
RemotePreference = Literal["remote", "onsite", "hybrid", "any"]


class WorkerSkill(BaseModel):
    skill_id: str = Field(min_length=1, max_length=300)
    level: int = Field(ge=1, le=5)
    source: SkillSource = "self"
    verified_at: datetime | None = None
    last_used_at: datetime | None = None


class Aspiration(BaseModel):
    """A skill the worker wants to grow, and the level they aim for."""

    skill_id: str = Field(min_length=1, max_length=300)
    target_level: int = Field(default=3, ge=1, le=5)


class DateRange(BaseModel):
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def ends_after_start(self) -> "DateRange":
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class Preferences(BaseModel):
    task_kinds: list[TaskKind] = Field(default_factory=list, max_length=5)
    interests: list[str] = Field(default_factory=list, max_length=50)


class WorkerState(Event):
    id: uuid.UUID
    version: int
    external_id: str | None = None
    name: str
    org_unit: str | None = None
    manager_id: str | None = None
    status: WorkerStatus
    work_arrangement: WorkArrangement = "employee"
    location: str | None = None
    timezone: str | None = None
    remote_preference: RemotePreference = "any"
    weekly_hours: float
    max_concurrent_assignments: int = 3
    # No windows means available whenever the weekly hours allow.
    availability: list[DateRange] = Field(default_factory=list)
    blackouts: list[DateRange] = Field(default_factory=list)
    skills: list[WorkerSkill]
    aspirations: list[Aspiration] = Field(default_factory=list)
    preferences: Preferences = Field(default_factory=Preferences)


class WorkerUpserted(WorkerState):
    """A worker profile was created or changed: skills, capacity, preferences or status."""

    type = "taskforce.profiles.worker.upserted.v1"
    topic = WORKERS_TOPIC


class WorkerErased(Event):
    """A tombstone: the person asked to be forgotten. Every consumer deletes what it holds."""

    type = "taskforce.profiles.worker.erased.v1"
    topic = WORKERS_TOPIC

    id: uuid.UUID
    version: int


class SkillUpserted(Event):
    """A skill of the taxonomy was created, imported or changed."""

    type = "taskforce.profiles.skill.upserted.v1"
    topic = SKILLS_TOPIC

    id: str
    version: int
    label: str
    alt_labels: list[str] = Field(default_factory=list)
    skill_type: str | None = None
    source: str
    source_version: str | None = None
    broader: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
