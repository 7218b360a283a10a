"""Matching's read models, fed by events and upserted only when the incoming version is newer,
so replays and reordering are harmless. No I/O here."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kernel.db import UtcDateTime
from services.kernel.errors import NotFound


class Base(DeclarativeBase):
    pass


class TaskNotKnown(NotFound):
    title, slug = "Task not known to matching", "task-not-known"


class WorkerNotKnown(NotFound):
    title, slug = "Worker not known to matching", "worker-not-known"


class TaskView(Base):
    __tablename__ = "task_view"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    org_unit: Mapped[str | None] = mapped_column(sa.String(100))
    owner_id: Mapped[str] = mapped_column(sa.String(200))
    required_skills: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    hours_per_week: Mapped[float]
    start_date: Mapped[date]
    end_date: Mapped[date]
    seats: Mapped[int]
    learning_seats: Mapped[int]
    remote: Mapped[bool]
    location: Mapped[str | None] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20), default="task")
    visibility: Mapped[str] = mapped_column(sa.String(20), default="company")
    learning_skills: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class WorkerView(Base):
    __tablename__ = "worker_view"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    org_unit: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    weekly_hours: Mapped[float]
    skills: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    aspirations: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    manager_id: Mapped[str | None] = mapped_column(sa.String(200))
    remote_preference: Mapped[str] = mapped_column(sa.String(20), default="any")
    max_concurrent_assignments: Mapped[int] = mapped_column(default=3)
    # Date ranges as {"start_date": "YYYY-MM-DD", "end_date": …}; no windows = always.
    availability: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    blackouts: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    task_kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SkillView(Base):
    __tablename__ = "skill_view"

    id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    version: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(300))
    broader: Mapped[list[str]] = mapped_column(sa.JSON)
    related: Mapped[list[str]] = mapped_column(sa.JSON)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


def is_newer(current_version: int | None, incoming_version: int) -> bool:
    """Event-carried state applies only when it moves the version forward."""
    return current_version is None or incoming_version > current_version


def now() -> datetime:
    return datetime.now(UTC)
