"""Events on `profiles.workers` and `profiles.skills`, each with full state and version."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.kernel.events import Event

WORKERS_TOPIC = "profiles.workers"
SKILLS_TOPIC = "profiles.skills"
SkillSource = Literal["self", "manager", "assessment", "earned", "imported"]
WorkerStatus = Literal["active", "inactive"]


class WorkerSkill(BaseModel):
    skill_id: str = Field(min_length=1, max_length=300)
    level: int = Field(ge=1, le=5)
    source: SkillSource = "self"
    verified_at: datetime | None = None
    last_used_at: datetime | None = None


class WorkerState(Event):
    id: uuid.UUID
    version: int
    external_id: str | None = None
    name: str
    org_unit: str | None = None
    status: WorkerStatus
    location: str | None = None
    weekly_hours: float
    skills: list[WorkerSkill]
    aspirations: list[str] = Field(default_factory=list)


class WorkerRegistered(WorkerState):
    """A worker profile was created (by the person, a manager or the HRIS)."""

    type = "taskforce.profiles.worker.registered.v1"
    topic = WORKERS_TOPIC


class WorkerUpdated(WorkerState):
    """A worker profile changed: skills, aspirations, capacity or status."""

    type = "taskforce.profiles.worker.updated.v1"
    topic = WORKERS_TOPIC


class SkillUpdated(Event):
    """A skill of the taxonomy was created or changed."""

    type = "taskforce.profiles.skill.updated.v1"
    topic = SKILLS_TOPIC

    id: str
    version: int
    label: str
    alt_labels: list[str] = Field(default_factory=list)
    skill_type: str | None = None
    source: str
    broader: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
