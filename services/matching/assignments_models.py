"""Assignments of workers to tasks and their lifecycle, from which the hours ledger is
computed. Tables and rule methods only; no I/O here."""

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.kernel.db import UtcDateTime
from services.matching.models import Base

# An assignment in one of these states is still in play; at most one per task and worker.
LIVE = ("offered", "accepted", "approved", "active")
# An assignment in one of these states commits the worker's hours (the ledger).
COMMITS_HOURS = ("accepted", "approved", "active")


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
