"""Profiles tables and their rules: the skills taxonomy and workers with their skills. Each rule
returns the event that announces the change. No I/O here."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.kernel.contracts.profiles import (
    SkillUpdated,
    WorkerRegistered,
    WorkerSkill,
    WorkerState,
    WorkerUpdated,
)
from services.kernel.db import UtcDateTime
from services.kernel.errors import Conflict, InvalidInput, NotFound


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class SkillNotFound(NotFound):
    title, slug = "Skill not found", "skill-not-found"


class SkillAlreadyExists(Conflict):
    title, slug = "Skill already exists", "skill-exists"


class UnknownSkills(InvalidInput):
    title, slug = "Unknown skills", "unknown-skills"


class WorkerNotFound(NotFound):
    title, slug = "Worker not found", "worker-not-found"


class WorkerAlreadyExists(Conflict):
    title, slug = "Worker already exists", "worker-exists"


class Skill(Base):
    __tablename__ = "skill"

    id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    label: Mapped[str] = mapped_column(sa.String(300), index=True)
    alt_labels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    skill_type: Mapped[str | None] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(100), default="taskforce")
    broader: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    related: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    def announced(self) -> SkillUpdated:
        return SkillUpdated(
            id=self.id,
            version=self.version,
            label=self.label,
            alt_labels=self.alt_labels,
            skill_type=self.skill_type,
            source=self.source,
            broader=self.broader,
            related=self.related,
        )


class WorkerSkillRow(Base):
    __tablename__ = "worker_skill"

    worker_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(
        sa.String(300), sa.ForeignKey("skill.id"), primary_key=True, index=True
    )
    level: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(20))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Worker(Base):
    __tablename__ = "worker"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(default=1)
    external_id: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    org_unit: Mapped[str | None] = mapped_column(sa.String(100))
    manager_id: Mapped[str | None] = mapped_column(sa.String(200))
    location: Mapped[str | None] = mapped_column(sa.String(200))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    work_arrangement: Mapped[str] = mapped_column(sa.String(20), default="employee")
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    weekly_hours: Mapped[float]
    aspirations: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    skills: Mapped[list[WorkerSkillRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=WorkerSkillRow.skill_id
    )

    def _state(self) -> dict[str, Any]:
        fields = {
            name: getattr(self, name) for name in WorkerState.model_fields if name != "skills"
        }
        fields["skills"] = [
            WorkerSkill(
                skill_id=s.skill_id,
                level=s.level,
                source=s.source,
                verified_at=s.verified_at,
                last_used_at=s.last_used_at,
            )
            for s in self.skills
        ]
        return fields

    def registered(self) -> WorkerRegistered:
        return WorkerRegistered(**self._state())

    def replace_skills(self, skills: list[WorkerSkill]) -> WorkerUpdated:
        """The profile's skills become exactly `skills`; the version moves on."""
        self.skills = [
            WorkerSkillRow(
                skill_id=s.skill_id,
                level=s.level,
                source=s.source,
                verified_at=s.verified_at,
                last_used_at=s.last_used_at,
            )
            for s in skills
        ]
        self.version += 1
        self.updated_at = _now()
        return WorkerUpdated(**self._state())

    def current_event(self) -> WorkerUpdated:
        return WorkerUpdated(**self._state())
