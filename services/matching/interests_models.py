"""A worker's interest in an open task: the table, the rule that decides whether they may show
it, and the events that announce it. No I/O here, and the clock is passed in."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.kernel.contracts.matching import InterestEnd, InterestExpressed, InterestWithdrawn
from services.kernel.db import UtcDateTime
from services.kernel.errors import Conflict, Forbidden, NotFound
from services.matching.models import Base, TaskView, WorkerView


class InterestNotYours(Forbidden):
    title, slug = "Not your interest", "interest-not-yours"


class TaskNotOpenForInterest(NotFound):
    title, slug = "No open task", "task-not-open"


class InterestNotAllowed(Conflict):
    title, slug = "Interest not allowed", "interest-not-allowed"


class Interest(Base):
    __tablename__ = "interest"

    worker_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    # Indexed for the task's list and the shortlist's flags, which look up by task.
    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def expressed(self) -> InterestExpressed:
        return InterestExpressed(
            worker_id=self.worker_id, task_id=self.task_id, expressed_at=self.created_at
        )

    def withdrawn(self, at: datetime, reason: InterestEnd = "withdrawn") -> InterestWithdrawn:
        return InterestWithdrawn(
            worker_id=self.worker_id, task_id=self.task_id, withdrawn_at=at, reason=reason
        )


def ensure_may_show_interest(
    task: TaskView | None, worker: WorkerView, worker_sub: str | None
) -> None:
    """Only an open task the worker could see, never their own (owned under their worker id or,
    when they ask themselves, their token's subject), and only while they are active. A task
    they cannot see is answered as one that does not exist."""
    if (
        task is None
        or task.status != "open"
        or (task.visibility == "org_unit" and task.org_unit != worker.org_unit)
    ):
        raise TaskNotOpenForInterest("There is no open task with this id for you.")
    if task.owner_id in (str(worker.id), worker_sub):
        raise InterestNotAllowed("This is your own task.")
    if worker.status != "active":
        raise InterestNotAllowed(f"The worker is {worker.status}.")
