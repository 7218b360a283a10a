"""Response bodies of the interest routes."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from services.kernel.contracts.catalog import TaskStatus


class InterestRead(BaseModel):
    """One of a worker's interests, with what the worker needs to know of the task."""

    worker_id: uuid.UUID
    task_id: uuid.UUID
    title: str
    task_status: TaskStatus
    # False while the task is filled or in progress; completed and cancelled tasks drop out.
    task_open: bool
    created_at: datetime


class TaskInterestRead(BaseModel):
    """Who showed interest in a task, and when."""

    worker_id: uuid.UUID
    created_at: datetime
