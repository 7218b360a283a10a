"""Catalog tables and the task's state rules; each rule raises a domain error or returns the
event that announces the change. No I/O here."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kernel.contracts.catalog import TaskClosed, TaskPublished, TaskState, TaskUpdated
from services.kernel.db import UtcDateTime
from services.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound

CLOSED = ("completed", "cancelled")


class Base(DeclarativeBase):
    pass


class TaskNotFound(NotFound):
    title, slug = "Task not found", "task-not-found"


class TaskNotPublishable(Conflict):
    title, slug = "Task cannot be published", "task-not-publishable"


class TaskNotCancellable(Conflict):
    title, slug = "Task cannot be cancelled", "task-not-cancellable"


class TaskNotOwned(Forbidden):
    title, slug = "Not the task's owner", "task-not-owned"


class TaskNotEditable(Conflict):
    title, slug = "Task cannot be edited", "task-not-editable"


class TaskNotStartable(Conflict):
    title, slug = "Task cannot be started", "task-not-startable"


class TaskNotCompletable(Conflict):
    title, slug = "Task cannot be completed", "task-not-completable"


class UnknownSkills(InvalidInput):
    title, slug = "Unknown skills", "unknown-skills"


class SkillRef(Base):
    """The catalog's copy of the taxonomy (id and label), fed by `profiles.skills`, to
    validate and display requirements without calling profiles."""

    __tablename__ = "skill_ref"

    id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    version: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(300))
    alt_labels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    skill_type: Mapped[str | None] = mapped_column(sa.String(100))


class TaskAssignment(Base):
    """The catalog's copy of each assignment's status, fed by `matching.assignments`."""

    __tablename__ = "task_assignment"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    version: Mapped[int]
    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    status: Mapped[str] = mapped_column(sa.String(20))


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (sa.Index("ix_task_status_created", "status", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(default=1)
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    org_unit: Mapped[str | None] = mapped_column(sa.String(100))
    owner_id: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    required_skills: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    hours_per_week: Mapped[float]
    effort_hours: Mapped[float | None]
    start_date: Mapped[date]
    end_date: Mapped[date]
    seats: Mapped[int]
    learning_seats: Mapped[int] = mapped_column(default=0)
    seats_filled: Mapped[int] = mapped_column(default=0)
    remote: Mapped[bool] = mapped_column(default=True)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    learning_skills: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    visibility: Mapped[str] = mapped_column(sa.String(10), default="company")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    automation_potential: Mapped[float | None]
    source: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=lambda: datetime.now(UTC))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=lambda: datetime.now(UTC))

    def state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in TaskState.model_fields}

    def _changed(self) -> None:
        self.version += 1
        self.updated_at = datetime.now(UTC)

    def ensure_owned_by(self, sub: str, is_admin: bool) -> None:
        """Only the owner, or an admin, edits and moves a task."""
        if not is_admin and self.owner_id != sub:
            raise TaskNotOwned("Only the task's owner or an admin may change it.")

    def publish(self) -> TaskPublished:
        if self.status != "draft":
            raise TaskNotPublishable(
                f"A task in status '{self.status}' cannot be published; only a draft can."
            )
        if not any(skill.get("required", True) for skill in self.required_skills):
            # A deconstructed draft may lack a must-have skill; nobody could be matched to it.
            raise TaskNotPublishable(
                "A task needs at least one must-have skill before it is published; edit its "
                "required_skills first."
            )
        self.status = "open"
        self._changed()
        return TaskPublished(**self.state())

    def cancel(self) -> TaskClosed | None:
        """Cancel from any state before completion; a draft was never announced."""
        if self.status in CLOSED:
            raise TaskNotCancellable(f"A task in status '{self.status}' cannot be cancelled.")
        was_draft = self.status == "draft"
        self.status = "cancelled"
        self._changed()
        return None if was_draft else TaskClosed(**self.state())

    def update(self, changes: dict[str, Any]) -> TaskUpdated | None:
        """Edit a draft freely; an open task's changes are announced. None if nothing changed."""
        if self.status not in ("draft", "open"):
            raise TaskNotEditable(
                f"A task in status '{self.status}' cannot be edited; only a "
                "draft or an open task can."
            )
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changed:
            return None
        for name, value in changed.items():
            setattr(self, name, value)
        self._changed()
        return TaskUpdated(**self.state()) if self.status == "open" else None

    def start(self) -> TaskUpdated:
        if self.status not in ("open", "filled"):
            raise TaskNotStartable(
                f"A task in status '{self.status}' cannot be started; an open or filled one can."
            )
        self.status = "in_progress"
        self._changed()
        return TaskUpdated(**self.state())

    def complete(self) -> TaskClosed:
        if self.status != "in_progress":
            raise TaskNotCompletable(
                f"A task in status '{self.status}' cannot be completed; only one in progress can."
            )
        self.status = "completed"
        self._changed()
        return TaskClosed(**self.state())

    def count_seats(self, filled: int) -> TaskUpdated | None:
        """Seats follow matching's assignments: an open task whose seats are all taken is
        filled, and a filled task whose seat frees opens again."""
        status = self.status
        if status == "open" and filled >= self.seats:
            status = "filled"
        elif status == "filled" and filled < self.seats:
            status = "open"
        if (status, filled) == (self.status, self.seats_filled):
            return None
        self.status, self.seats_filled = status, filled
        self._changed()
        return TaskUpdated(**self.state()) if status != "draft" else None

    def current_event(self) -> TaskPublished | TaskUpdated | TaskClosed | None:
        """The event that carries the task's current state, for snapshots; none for drafts."""
        if self.status == "draft":
            return None
        if self.status in CLOSED:
            return TaskClosed(**self.state())
        if self.status == "open":
            return TaskPublished(**self.state())
        return TaskUpdated(**self.state())
