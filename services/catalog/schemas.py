"""Request and response bodies of the catalog API."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.kernel.contracts.catalog import RequiredSkill, TaskKind, TaskStatus, Visibility

SkillId = Annotated[str, Field(min_length=1, max_length=300)]


class TaskFields(BaseModel):
    """Every field of a task a client may set; the rules hold for a whole task."""

    model_config = ConfigDict(extra="forbid")

    kind: TaskKind = "task"
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    org_unit: str | None = Field(default=None, max_length=100)
    required_skills: list[RequiredSkill] = Field(min_length=1, max_length=50)
    learning_skills: list[SkillId] = Field(default_factory=list, max_length=50)
    hours_per_week: float = Field(gt=0, le=60)
    effort_hours: float | None = Field(default=None, gt=0, le=10_000)
    start_date: date
    end_date: date
    seats: int = Field(default=1, ge=1, le=1000)
    learning_seats: int = Field(default=0, ge=0, le=1000)
    remote: bool = True
    location: str | None = Field(default=None, max_length=200)
    visibility: Visibility = "company"
    parent_id: uuid.UUID | None = None
    automation_potential: float | None = Field(default=None, ge=0, le=1)
    source: dict[str, str] | None = Field(default=None, max_length=20)

    @field_validator("required_skills")
    @classmethod
    def has_a_must_have(cls, skills: list[RequiredSkill]) -> list[RequiredSkill]:
        if not any(skill.required for skill in skills):
            raise ValueError("at least one required (must-have) skill is needed")
        if len({skill.skill_id for skill in skills}) != len(skills):
            raise ValueError("each skill may appear once")
        return skills

    @field_validator("end_date")
    @classmethod
    def ends_after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and end < start:
            raise ValueError("end_date must not be before start_date")
        return end

    @field_validator("learning_seats")
    @classmethod
    def learning_within_seats(cls, learning: int, info: ValidationInfo) -> int:
        seats = info.data.get("seats")
        if seats is not None and learning > seats:
            raise ValueError("learning_seats must not exceed seats")
        return learning

    @field_validator("visibility")
    @classmethod
    def org_unit_for_org_visibility(cls, visibility: str, info: ValidationInfo) -> str:
        if visibility == "org_unit" and not info.data.get("org_unit"):
            raise ValueError("a task visible to an org unit needs org_unit")
        return visibility


class TaskCreate(TaskFields):
    owner_id: str | None = Field(
        default=None, max_length=200, description="Only admins and services may set another owner."
    )


class TaskUpdate(BaseModel):
    """A partial update; the merged task must still satisfy every rule of `TaskFields`."""

    model_config = ConfigDict(extra="forbid")

    kind: TaskKind | None = None
    title: str | None = None
    description: str | None = None
    org_unit: str | None = None
    required_skills: list[RequiredSkill] | None = None
    learning_skills: list[SkillId] | None = None
    hours_per_week: float | None = None
    effort_hours: float | None = None
    start_date: date | None = None
    end_date: date | None = None
    seats: int | None = None
    learning_seats: int | None = None
    remote: bool | None = None
    location: str | None = None
    visibility: Visibility | None = None
    parent_id: uuid.UUID | None = None
    automation_potential: float | None = None

    def merged_into(self, current: dict[str, Any]) -> dict[str, Any]:
        return current | self.model_dump(exclude_unset=True, mode="json")


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version: int
    kind: TaskKind
    title: str
    description: str
    org_unit: str | None
    owner_id: str
    status: TaskStatus
    required_skills: list[RequiredSkill]
    learning_skills: list[str]
    hours_per_week: float
    effort_hours: float | None
    start_date: date
    end_date: date
    seats: int
    learning_seats: int
    seats_filled: int
    remote: bool
    location: str | None
    visibility: Visibility
    parent_id: uuid.UUID | None
    automation_potential: float | None
    source: dict[str, str] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: object) -> Self:
        return cls.model_validate(task)


class BulkLineResult(BaseModel):
    line: int
    status: Literal["created", "error"]
    id: uuid.UUID | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BulkResult(BaseModel):
    created: int
    failed: int
    results: list[BulkLineResult]
