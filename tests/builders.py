"""Builders of valid request bodies and events; each takes overrides for the one thing a test
is about."""

import uuid
from datetime import date, timedelta
from typing import Any

from services.kernel.contracts.catalog import TaskPublished
from services.kernel.contracts.profiles import WorkerUpserted


def a_task(**overrides: Any) -> dict[str, Any]:
    start = date.today() + timedelta(days=7)
    body: dict[str, Any] = {
        "kind": "task",
        "title": "Build the quarterly dashboard",
        "description": "Turn the finance extract into a dashboard.",
        "org_unit": "Finance",
        "required_skills": [
            {"skill_id": "taskforce:python", "min_level": 3, "weight": 1.0, "required": True}
        ],
        "hours_per_week": 4,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=28)).isoformat(),
        "seats": 1,
        "learning_seats": 0,
        "remote": True,
    }
    body.update(overrides)
    return body


def a_skill(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "taskforce:python",
        "label": "Python",
        "alt_labels": ["Python programming"],
        "skill_type": "skill",
    }
    body.update(overrides)
    return body


def a_worker(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": f"HR-{uuid.uuid4().hex[:8]}",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "org_unit": "Engineering",
        "weekly_hours": 8,
        "skills": [{"skill_id": "taskforce:python", "level": 4, "source": "self"}],
        "aspirations": [],
    }
    body.update(overrides)
    return body


def a_task_published(**overrides: Any) -> TaskPublished:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "version": 2,
        "status": "open",
        "kind": "task",
        "title": "Build the quarterly dashboard",
        "org_unit": "Finance",
        "owner_id": "owner-1",
        "required_skills": [
            {"skill_id": "taskforce:python", "min_level": 3, "weight": 1.0, "required": True}
        ],
        "hours_per_week": 4,
        "start_date": date.today(),
        "end_date": date.today() + timedelta(days=28),
        "seats": 1,
    }
    fields.update(overrides)
    return TaskPublished(**fields)


def a_worker_upserted(**overrides: Any) -> WorkerUpserted:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "version": 1,
        "name": "Ada Lovelace",
        "org_unit": "Engineering",
        "status": "active",
        "weekly_hours": 8,
        "skills": [{"skill_id": "taskforce:python", "level": 4, "source": "self"}],
    }
    fields.update(overrides)
    return WorkerUpserted(**fields)
