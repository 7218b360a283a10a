"""Match runs (an optimisation over a scope of open tasks) and the proposals they produce.
Tables only; no I/O here."""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.kernel.db import UtcDateTime
from services.kernel.errors import Conflict, NotFound
from services.matching.models import Base

RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED = ("succeeded", "failed", "cancelled")


class MatchRunNotFound(NotFound):
    title, slug = "Match run not found", "match-run-not-found"


class MatchRunFinished(Conflict):
    title, slug = "Match run already finished", "match-run-finished"


class MatchRun(Base):
    __tablename__ = "match_run"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    requested_by: Mapped[str] = mapped_column(sa.String(200))
    scope: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    weights: Mapped[dict[str, float]] = mapped_column(sa.JSON)
    fairness: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    time_limit_s: Mapped[float]
    phase: Mapped[str] = mapped_column(sa.String(50), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    stats: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str | None] = mapped_column(sa.String(1000))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    # A run interrupted by a crash is queued again, at most a few times.
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Proposal(Base):
    __tablename__ = "proposal"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    score: Mapped[float]
    learning_seat: Mapped[bool] = mapped_column(default=False)
    explanation: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    assignment_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
