"""Request and response bodies of the profiles API."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from services.kernel.contracts.profiles import WorkerSkill, WorkerStatus

SKILL_ID = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]{1,290}$")
WorkArrangement = Literal["employee", "contractor", "freelancer"]


def _one_entry_per_skill(skills: list[WorkerSkill]) -> list[WorkerSkill]:
    if len({s.skill_id for s in skills}) != len(skills):
        raise ValueError("each skill may appear once")
    return skills


SkillList = Annotated[
    list[WorkerSkill], Field(max_length=200), AfterValidator(_one_entry_per_skill)
]


class SkillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None,
        max_length=300,
        description="A URI such as `taskforce:python` or an ESCO skill URI; "
        "generated from the label when omitted.",
    )
    label: str = Field(min_length=1, max_length=300)
    alt_labels: list[str] = Field(default_factory=list, max_length=500)
    skill_type: str | None = Field(default=None, max_length=100)
    description: str = Field(default="", max_length=10_000)
    broader: list[str] = Field(default_factory=list, max_length=50)
    related: list[str] = Field(default_factory=list, max_length=200)

    @field_validator("id")
    @classmethod
    def is_a_uri(cls, value: str | None) -> str | None:
        if value is not None and not SKILL_ID.match(value):
            raise ValueError("a skill id is a URI: a scheme, a colon and no spaces")
        return value


class SkillRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    version: int
    label: str
    alt_labels: list[str]
    skill_type: str | None
    description: str
    source: str
    broader: list[str]
    related: list[str]


class WorkerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    org_unit: str | None = Field(default=None, max_length=100)
    manager_id: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    work_arrangement: WorkArrangement = "employee"
    weekly_hours: float = Field(ge=0, le=60)
    skills: SkillList = Field(default_factory=list)
    aspirations: list[str] = Field(default_factory=list, max_length=50)


class WorkerSkillsReplace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skills: SkillList


class WorkerSkillRead(WorkerSkill):
    model_config = ConfigDict(from_attributes=True)


class WorkerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version: int
    external_id: str | None
    name: str
    email: str | None
    org_unit: str | None
    manager_id: str | None
    location: str | None
    timezone: str | None
    work_arrangement: WorkArrangement
    status: WorkerStatus
    weekly_hours: float
    skills: list[WorkerSkillRead]
    aspirations: list[str]
    created_at: datetime
    updated_at: datetime
