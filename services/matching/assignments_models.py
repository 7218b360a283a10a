"""Assignments of workers to tasks and their lifecycle, from which the hours ledger is
computed. Tables and rule methods only; no I/O here, and the clock is passed in."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.kernel.contracts.matching import (
    AssignmentCompleted,
    AssignmentUpdated,
    DemonstratedSkill,
)
from services.kernel.db import UtcDateTime
from services.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.matching.models import Base

# An assignment in one of these states is still in play; at most one per task and worker.
LIVE = ("offered", "accepted", "approved", "active")
# An assignment in one of these states commits the worker's hours (the ledger).
COMMITS_HOURS = ("accepted", "approved", "active")

# Action → the statuses it may start from, and the status it leads to. Nothing else moves an
# assignment; `declined`, `withdrawn`, `cancelled` and `completed` are final.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": (("offered",), "accepted"),
    "decline": (("offered",), "declined"),
    "approve": (("accepted",), "approved"),
    "start": (("approved",), "active"),
    "complete": (("active",), "completed"),
    "withdraw": (COMMITS_HOURS, "withdrawn"),
    "cancel": (LIVE, "cancelled"),
}


class AssignmentNotFound(NotFound):
    title, slug = "Assignment not found", "assignment-not-found"


class AssignmentNotAllowed(Conflict):
    title, slug = "Assignment cannot move so", "assignment-not-allowed"


class AssignmentNotYours(Forbidden):
    title, slug = "Not yours to move or see", "assignment-not-yours"


class AssignmentAlreadyLive(Conflict):
    title, slug = "Worker already has this task", "assignment-already-live"


class WorkerNotEligible(Conflict):
    title, slug = "Worker not eligible", "worker-not-eligible"


class WorkerOverCapacity(Conflict):
    title, slug = "Worker over capacity", "worker-over-capacity"


class TaskSeatsTaken(Conflict):
    title, slug = "No seat left", "task-seats-taken"


class ProposalNotFound(NotFound):
    title, slug = "Proposal not found", "proposal-not-found"


class ProposalAlreadyOffered(Conflict):
    title, slug = "Proposal already offered", "proposal-already-offered"


class SkillsNotOfTask(InvalidInput):
    title, slug = "Skills not of the task", "skills-not-of-task"


class Assignment(Base):
    __tablename__ = "assignment"
    __table_args__ = (
        sa.Index(
            "uq_assignment_live_pair",
            "task_id",
            "worker_id",
            unique=True,
            sqlite_where=sa.text("status IN ('offered', 'accepted', 'approved', 'active')"),
            postgresql_where=sa.text("status IN ('offered', 'accepted', 'approved', 'active')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(default=1)
    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    learning_seat: Mapped[bool] = mapped_column(default=False)
    # Copied from the task when offered: the ledger must not move when the task is edited.
    hours_per_week: Mapped[float]
    start_date: Mapped[date]
    end_date: Mapped[date]
    offered_by: Mapped[str] = mapped_column(sa.String(200))
    match_run_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    score: Mapped[float | None]
    # Set on acceptance when the line manager must release the hours, and by when.
    approval_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    approved_by: Mapped[str | None] = mapped_column(sa.String(200))
    endorsed_skills: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    completed_on: Mapped[date | None]
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

    @classmethod
    def offer(
        cls,
        *,
        task_id: uuid.UUID,
        worker_id: uuid.UUID,
        hours_per_week: float,
        start_date: date,
        end_date: date,
        offered_by: str,
        learning_seat: bool,
        score: float | None,
        at: datetime,
        match_run_id: uuid.UUID | None = None,
        proposal_id: uuid.UUID | None = None,
    ) -> tuple["Assignment", AssignmentUpdated]:
        """A new offer (version 1); the checks that it may be made are the use case's."""
        assignment = cls(
            id=uuid.uuid4(),
            version=1,
            task_id=task_id,
            worker_id=worker_id,
            status="offered",
            learning_seat=learning_seat,
            hours_per_week=hours_per_week,
            start_date=start_date,
            end_date=end_date,
            offered_by=offered_by,
            match_run_id=match_run_id,
            proposal_id=proposal_id,
            score=score,
            endorsed_skills=[],
            created_at=at,
            updated_at=at,
        )
        return assignment, assignment.current_event()

    def current_event(self) -> AssignmentUpdated:
        return AssignmentUpdated(
            id=self.id,
            version=self.version,
            task_id=self.task_id,
            worker_id=self.worker_id,
            status=self.status,  # type: ignore[arg-type]
            learning_seat=self.learning_seat,
        )

    def ensure_may(self, action: str) -> None:
        allowed, _ = TRANSITIONS[action]
        if self.status not in allowed:
            raise AssignmentNotAllowed(
                f"An assignment in status '{self.status}' cannot take '{action}'; only one in "
                f"status {' or '.join(allowed)} can."
            )

    def _move(self, action: str, at: datetime, **fields: Any) -> AssignmentUpdated:
        """Check the transition, then change the fields: a refused move changes nothing."""
        self.ensure_may(action)
        for name, value in fields.items():
            setattr(self, name, value)
        self.status = TRANSITIONS[action][1]
        self.version += 1
        self.updated_at = at
        return self.current_event()

    def accept(
        self, at: datetime, auto_approve_max_hours_per_week: float, approval_deadline: timedelta
    ) -> list[AssignmentUpdated]:
        """Small commitments are approved at once; larger ones wait for the line manager,
        until the deadline (after which escalation approves them)."""
        accepted = self._move("accept", at)
        if self.hours_per_week <= auto_approve_max_hours_per_week:
            return [accepted, self.approve("auto", at)]
        self.approval_due_at = at + approval_deadline
        return [accepted]

    def approve(self, by: str, at: datetime) -> AssignmentUpdated:
        return self._move("approve", at, approved_by=by, approval_due_at=None)

    def decline(self, at: datetime, reason: str | None = None) -> AssignmentUpdated:
        return self._move("decline", at, reason=reason)

    def start(self, at: datetime) -> AssignmentUpdated:
        return self._move("start", at)

    def withdraw(self, at: datetime, reason: str | None = None) -> AssignmentUpdated:
        return self._move("withdraw", at, reason=reason, approval_due_at=None)

    def cancel(self, at: datetime, reason: str | None = None) -> AssignmentUpdated:
        return self._move("cancel", at, reason=reason, approval_due_at=None)

    def complete(
        self,
        by: str,
        on: date,
        skills: list[DemonstratedSkill],
        task_skill_ids: set[str],
        at: datetime,
    ) -> tuple[AssignmentUpdated, AssignmentCompleted]:
        """The owner confirms the work and the skills it showed, which must be the task's."""
        self.ensure_may("complete")
        errors = [
            {
                "loc": ["body", "skills", str(i), "skill_id"],
                "msg": f"{skill.skill_id} is not one of the task's skills",
                "type": "not_of_task",
            }
            for i, skill in enumerate(skills)
            if skill.skill_id not in task_skill_ids
        ]
        if errors:
            raise SkillsNotOfTask(
                "Only the task's own skills can be endorsed on completion.", errors=errors
            )
        updated = self._move(
            "complete",
            at,
            completed_on=on,
            endorsed_skills=[skill.model_dump() for skill in skills],
        )
        return updated, AssignmentCompleted(
            id=self.id,
            version=self.version,
            task_id=self.task_id,
            worker_id=self.worker_id,
            completed_on=on,
            endorsed_by=by,
            skills=skills,
        )
