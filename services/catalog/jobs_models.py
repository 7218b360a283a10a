"""The catalog's copy of an O*NET release, as job deconstruction reads it (occupations, task
statements, their links to work activities and skills, skill ratings, technologies), and the
import job that loads it. Tables only; no I/O here."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.models import Base
from services.kernel.db import UtcDateTime
from services.kernel.errors import Conflict, NotFound


def now() -> datetime:
    return datetime.now(UTC)


class OccupationNotFound(NotFound):
    title, slug = "Occupation not found", "occupation-not-found"


class JobReleaseMissing(Conflict):
    title, slug = "No O*NET release imported", "job-release-missing"


class JobImportNotFound(NotFound):
    title, slug = "Import not found", "job-import-not-found"


class Occupation(Base):
    __tablename__ = "occupation"

    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # Whose skill ratings stand for this occupation's: its own, or the most related rated one.
    ratings_from: Mapped[str | None] = mapped_column(sa.String(20))


class OccupationTask(Base):
    """A task statement of an occupation; task_type is Core, Supplemental or null (n/a)."""

    __tablename__ = "occupation_task"

    occupation_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(sa.Text)
    task_type: Mapped[str | None] = mapped_column(sa.String(20))


class TaskDwa(Base):
    __tablename__ = "task_dwa"

    occupation_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    dwa_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)


class Dwa(Base):
    """A Detailed Work Activity, with its IWA and the GWA (a `4.A.*` element) above it."""

    __tablename__ = "dwa"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    title: Mapped[str] = mapped_column(sa.Text)
    iwa_id: Mapped[str] = mapped_column(sa.String(40))
    gwa_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    gwa_title: Mapped[str] = mapped_column(sa.String(300))


class SkillActivity(Base):
    """O*NET's official link between a skill and a Generalised Work Activity."""

    __tablename__ = "skill_activity"

    gwa_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    skill_element: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    skill_name: Mapped[str] = mapped_column(sa.String(300))


class OccupationSkillRating(Base):
    """Importance 1 to 5 and level 0 to 7; null where O*NET suppresses the estimate."""

    __tablename__ = "occupation_skill_rating"

    occupation_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    element_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    element_name: Mapped[str] = mapped_column(sa.String(300))
    importance: Mapped[float | None]
    level: Mapped[float | None]


class OccupationTechnology(Base):
    __tablename__ = "occupation_technology"

    occupation_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    product_id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    product: Mapped[str] = mapped_column(sa.String(300))
    hot: Mapped[bool]
    listed_by: Mapped[int]
    in_demand: Mapped[bool]


class OnetImport(Base):
    """An import of the O*NET release into the tables above, run in the background and polled
    by its caller. Each import replaces the previous release in one transaction."""

    __tablename__ = "onet_import"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20))  # running | succeeded | failed
    source_version: Mapped[str | None] = mapped_column(sa.String(50))
    occupations: Mapped[int] = mapped_column(default=0)
    tasks: Mapped[int] = mapped_column(default=0)
    rows: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    error: Mapped[str | None] = mapped_column(sa.Text)
    attribution: Mapped[str] = mapped_column(sa.Text, default="")
    requested_by: Mapped[str] = mapped_column(sa.String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SkillLabelsMissing(Conflict):
    title, slug = "No skill labels to match against", "skill-labels-missing"
