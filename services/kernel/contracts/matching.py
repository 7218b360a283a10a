"""Events on `matching.assignments`. Defined ahead of the matching issue so profiles can
record skill evidence from completed work."""

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.kernel.events import Event

ASSIGNMENTS_TOPIC = "matching.assignments"


class DemonstratedSkill(BaseModel):
    skill_id: str = Field(min_length=1, max_length=300)
    # Set only when the completing manager endorsed a level for this skill.
    endorsed_level: int | None = Field(default=None, ge=1, le=5)


AssignmentStatus = Literal[
    "offered", "accepted", "approved", "active", "completed", "declined", "withdrawn", "cancelled"
]
# An assignment in one of these holds one of its task's seats.
HOLDS_SEAT = frozenset({"accepted", "approved", "active", "completed"})


class AssignmentUpdated(Event):
    """An assignment was made or moved on in its lifecycle; catalog counts seats from it."""

    type = "taskforce.matching.assignment.updated.v1"
    topic = ASSIGNMENTS_TOPIC

    id: uuid.UUID
    version: int
    task_id: uuid.UUID
    worker_id: uuid.UUID
    status: AssignmentStatus
    learning_seat: bool = False


class AssignmentCompleted(Event):
    """A worker finished an assignment; the owner confirmed the skills it demonstrated."""

    type = "taskforce.matching.assignment.completed.v1"
    topic = ASSIGNMENTS_TOPIC

    id: uuid.UUID
    version: int
    task_id: uuid.UUID
    worker_id: uuid.UUID
    completed_on: date
    endorsed_by: str
    skills: list[DemonstratedSkill]


RUNS_TOPIC = "matching.runs"


class MatchRunStatistics(BaseModel):
    """What the optimiser did. Objectives and bounds are sums of scores (each in [0, 1])."""

    tasks: int = 0
    workers: int = 0
    candidate_pairs: int = 0
    components: int = 0
    greedy_objective: float | None = None
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    solver_status: str | None = None
    wall_s: float | None = None


class MatchRunCompleted(Event):
    """A match run finished: succeeded with proposals, failed, or was cancelled."""

    type = "taskforce.matching.run.completed.v1"
    topic = RUNS_TOPIC

    id: uuid.UUID
    status: Literal["succeeded", "failed", "cancelled"]
    requested_by: str
    proposals: int
    statistics: MatchRunStatistics
    error: str | None = None
