"""Events of the matching service: `matching.assignments` (defined ahead of the matching issue
so profiles can record skill evidence from completed work), `matching.runs` and
`matching.interests`."""

import uuid
from datetime import date, datetime
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


INTERESTS_TOPIC = "matching.interests"
InterestEnd = Literal["withdrawn", "task_closed", "worker_erased"]


class InterestExpressed(Event):
    """A worker showed interest in an open task (the first time; repeating it announces
    nothing). Keyed by the worker, so one worker's interest events stay in order."""

    type = "taskforce.matching.interest.expressed.v1"
    topic = INTERESTS_TOPIC
    aggregate = "worker_id"

    worker_id: uuid.UUID
    task_id: uuid.UUID
    expressed_at: datetime


class InterestWithdrawn(Event):
    """A worker's interest in a task ended: they withdrew it, the task closed (completed or
    cancelled), or the worker was erased. A consumer applies it only when `withdrawn_at` is
    later than the `expressed_at` it holds for the pair."""

    type = "taskforce.matching.interest.withdrawn.v1"
    topic = INTERESTS_TOPIC
    aggregate = "worker_id"

    worker_id: uuid.UUID
    task_id: uuid.UUID
    withdrawn_at: datetime
    reason: InterestEnd = "withdrawn"
