"""Catalog tables and the task's state rules; each rule raises a domain error or returns the
event that announces the change. No I/O here."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kernel.contracts.catalog import TaskClosed, TaskPublished, TaskState, TaskUpdated
from services.kernel.db import UtcDateTime
from services.kernel.errors import Conflict, Forbidden, NotFound

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
    remote: Mapped[bool] = mapped_column(default=True)
    location: Mapped[str | None] = mapped_column(sa.String(200))
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

    def current_event(self) -> TaskPublished | TaskUpdated | TaskClosed | None:
        """The event that carries the task's current state, for snapshots; none for drafts."""
        if self.status == "draft":
            return None
        if self.status in CLOSED:
            return TaskClosed(**self.state())
        if self.status == "open":
            return TaskPublished(**self.state())
        return TaskUpdated(**self.state())
