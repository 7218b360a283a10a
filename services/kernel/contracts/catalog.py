"""Events on `catalog.tasks`: each carries the task's full current state and its version."""

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.kernel.events import Event

TASKS_TOPIC = "catalog.tasks"
TaskStatus = Literal["draft", "open", "filled", "in_progress", "completed", "cancelled"]
TaskKind = Literal["task", "project", "gig", "mentorship", "rotation"]
Visibility = Literal["company", "org_unit"]


class RequiredSkill(BaseModel):
    skill_id: str = Field(min_length=1, max_length=300)
    min_level: int = Field(ge=1, le=5)
    weight: float = Field(default=1.0, gt=0, le=10)
    required: bool = True


class TaskState(Event):
    id: uuid.UUID
    version: int
    status: TaskStatus
    kind: TaskKind
    title: str
    org_unit: str | None = None
    owner_id: str
    required_skills: list[RequiredSkill]
    hours_per_week: float
    effort_hours: float | None = None
    start_date: date
    end_date: date
    seats: int
    learning_seats: int = 0
    seats_filled: int = 0
    remote: bool = True
    location: str | None = None
    description: str = ""
    learning_skills: list[str] = Field(default_factory=list)
    visibility: Visibility = "company"
    parent_id: uuid.UUID | None = None
    automation_potential: float | None = None
    # Where the task was deconstructed from, e.g. {"kind": "onet", "occupation_code": …}.
    source: dict[str, str] | None = None


class TaskPublished(TaskState):
    """A task opened for staffing."""

    type = "taskforce.catalog.task.published.v1"
    topic = TASKS_TOPIC


class TaskUpdated(TaskState):
    """A published task changed (its details or its status while still live)."""

    type = "taskforce.catalog.task.updated.v1"
    topic = TASKS_TOPIC


class TaskClosed(TaskState):
    """A task was completed or cancelled; it takes no more people."""

    type = "taskforce.catalog.task.closed.v1"
    topic = TASKS_TOPIC
