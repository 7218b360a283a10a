"""Profiles tables and their rules: the skills taxonomy, workers with their skills, and the
evidence of skills shown in completed work. Rules return the event that announces a change.
No I/O here."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.kernel.contracts.profiles import (
    SkillUpserted,
    WorkerErased,
    WorkerSkill,
    WorkerState,
    WorkerUpserted,
)
from services.kernel.db import UtcDateTime
from services.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound


def now() -> datetime:
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


class WorkerErasedAlready(Conflict):
    title, slug = "Worker erased", "worker-erased"


class WorkerSkillNotFound(NotFound):
    title, slug = "The worker has no such skill", "worker-skill-not-found"


class NotAllowed(Forbidden):
    title, slug = "Not allowed", "not-allowed"


class ImportNotFound(NotFound):
    title, slug = "Import not found", "import-not-found"


class Skill(Base):
    __tablename__ = "skill"

    id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    label: Mapped[str] = mapped_column(sa.String(300), index=True)
    alt_labels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    skill_type: Mapped[str | None] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(100), default="taskforce")
    source_version: Mapped[str | None] = mapped_column(sa.String(50))
    broader: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    related: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    def announced(self) -> SkillUpserted:
        return SkillUpserted(
            id=self.id,
            version=self.version,
            label=self.label,
            alt_labels=self.alt_labels,
            skill_type=self.skill_type,
            source=self.source,
            source_version=self.source_version,
            broader=self.broader,
            related=self.related,
        )


class SkillRelation(Base):
    """Broader and related links, one row each, so narrower skills can be found by index."""

    __tablename__ = "skill_relation"

    skill_id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # broader | related
    target_id: Mapped[str] = mapped_column(sa.String(300), primary_key=True, index=True)


class TaxonomyRevision(Base):
    """One row counting taxonomy changes, so each process knows when its label index is old."""

    __tablename__ = "taxonomy_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)


class SkillImport(Base):
    """An import of a taxonomy release, run in the background and polled by its caller."""

    __tablename__ = "skill_import"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20))  # running | succeeded | failed
    source_version: Mapped[str | None] = mapped_column(sa.String(50))
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    error: Mapped[str | None] = mapped_column(sa.Text)
    attribution: Mapped[str] = mapped_column(sa.Text, default="")
    requested_by: Mapped[str] = mapped_column(sa.String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


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
    verified_by: Mapped[str | None] = mapped_column(sa.String(200))
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def as_contract(self) -> WorkerSkill:
        return WorkerSkill(
            skill_id=self.skill_id,
            level=self.level,
            source=self.source,  # type: ignore[arg-type]
            verified_at=self.verified_at,
            last_used_at=self.last_used_at,
        )


class SkillEvidence(Base):
    """A skill shown in completed work; the level moves only on the manager's endorsement."""

    __tablename__ = "skill_evidence"

    assignment_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    skill_id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("worker.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    demonstrated_on: Mapped[date]
    endorsed_level: Mapped[int | None]
    endorsed_by: Mapped[str] = mapped_column(sa.String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


# Fields a worker may change on their own profile; the rest belong to HR (admin, service).
SELF_EDITABLE = frozenset(
    {
        "name",
        "location",
        "timezone",
        "remote_preference",
        "weekly_hours",
        "availability",
        "blackouts",
        "aspirations",
        "preferences",
        "max_concurrent_assignments",
    }
)
PERSONAL = frozenset({"email"})


class Worker(Base):
    __tablename__ = "worker"
    # Keyset pagination of the worker list.
    __table_args__ = (sa.Index("ix_worker_created", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(default=1)
    external_id: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    org_unit: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    manager_id: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    work_arrangement: Mapped[str] = mapped_column(sa.String(20), default="employee")
    remote_preference: Mapped[str] = mapped_column(sa.String(10), default="any")
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    weekly_hours: Mapped[float]
    max_concurrent_assignments: Mapped[int] = mapped_column(default=3)
    availability: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    blackouts: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    aspirations: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    preferences: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    skills: Mapped[list[WorkerSkillRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=WorkerSkillRow.skill_id
    )

    # -- rules ---------------------------------------------------------------------------

    def ensure_not_erased(self) -> None:
        if self.status == "erased":
            raise WorkerErasedAlready("This worker was erased; nothing about them can change.")

    def is_line_manager(self, *identities: str | None) -> bool:
        """`manager_id` holds the line manager's worker id or their identity-provider
        subject (HRIS feeds usually send the latter)."""
        return self.manager_id is not None and self.manager_id in identities

    def _changed(self) -> WorkerUpserted:
        self.version += 1
        self.updated_at = now()
        return self.announced()

    def update(self, changes: dict[str, Any]) -> WorkerUpserted | None:
        """Apply field changes; None when nothing actually changed."""
        self.ensure_not_erased()
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changed:
            return None
        for name, value in changed.items():
            setattr(self, name, value)
        return self._changed()

    def replace_skills(
        self, skills: list[WorkerSkill], verified_by: str | None = None
    ) -> WorkerUpserted:
        """The profile's skills become exactly `skills`; the version moves on."""
        self.ensure_not_erased()
        self.skills = [
            WorkerSkillRow(
                skill_id=s.skill_id,
                level=s.level,
                source=s.source,
                verified_at=s.verified_at,
                last_used_at=s.last_used_at,
                verified_by=verified_by if s.verified_at else None,
            )
            for s in skills
        ]
        return self._changed()

    def verify_skill(self, skill_id: str, level: int | None, by: str) -> WorkerUpserted:
        """A line manager (or admin) vouches for a skill, optionally at another level."""
        self.ensure_not_erased()
        row = next((s for s in self.skills if s.skill_id == skill_id), None)
        if row is None:
            raise WorkerSkillNotFound(f"The worker has no skill {skill_id} to verify.")
        row.source, row.verified_at, row.verified_by = "manager", now(), by
        if level is not None:
            row.level = level
        return self._changed()

    def set_status(self, status: str) -> WorkerUpserted | None:
        self.ensure_not_erased()
        if self.status == status:
            return None
        self.status = status
        return self._changed()

    def record_assignment(
        self, shown: list[tuple[str, int | None]], on: date
    ) -> WorkerUpserted | None:
        """Skills (id, endorsed level or None) shown in work completed on `on`."""
        if self.status == "erased":
            return None
        changed = [self._record_evidence(skill_id, on, level) for skill_id, level in shown]
        return self._changed() if any(changed) else None

    def _record_evidence(self, skill_id: str, on: date, endorsed_level: int | None) -> bool:
        """`last_used_at` moves; the level (and an `earned` source) only with an
        endorsement. Returns whether the profile changed."""
        used_at = datetime(on.year, on.month, on.day, tzinfo=UTC)
        row = next((s for s in self.skills if s.skill_id == skill_id), None)
        if row is None:
            if endorsed_level is None:
                return False
            self.skills.append(
                WorkerSkillRow(
                    skill_id=skill_id,
                    level=endorsed_level,
                    source="earned",
                    verified_at=used_at,
                    last_used_at=used_at,
                )
            )
            return True
        changed = False
        if row.last_used_at is None or row.last_used_at < used_at:
            row.last_used_at, changed = used_at, True
        if endorsed_level is not None and endorsed_level != row.level:
            row.level, row.source, row.verified_at, changed = (
                endorsed_level,
                "earned",
                used_at,
                True,
            )
        return changed

    def erase(self) -> WorkerErased:
        """Remove every personal detail and skill; keep only a tombstone with the id."""
        self.ensure_not_erased()
        for name in ("external_id", "email", "org_unit", "manager_id", "location", "timezone"):
            setattr(self, name, None)
        self.name = ""
        self.weekly_hours = 0
        self.availability, self.blackouts, self.aspirations, self.preferences = [], [], [], {}
        self.skills = []
        self.status = "erased"
        self.erased_at = now()
        self.version += 1
        self.updated_at = now()
        return WorkerErased(id=self.id, version=self.version)

    # -- state -----------------------------------------------------------------------------

    def announced(self) -> WorkerUpserted:
        fields = {
            name: getattr(self, name) for name in WorkerState.model_fields if name != "skills"
        }
        fields["skills"] = [row.as_contract() for row in self.skills]
        return WorkerUpserted(**fields)

    def current_event(self) -> WorkerUpserted | WorkerErased:
        if self.status == "erased":
            return WorkerErased(id=self.id, version=self.version)
        return self.announced()
