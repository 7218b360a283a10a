"""Request and response bodies of the profiles API."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from services.kernel.contracts.profiles import (
    Aspiration,
    DateRange,
    Preferences,
    RemotePreference,
    SkillSource,
    WorkArrangement,
    WorkerSkill,
    WorkerStatus,
)

SKILL_ID = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]{1,290}$")
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Text = Annotated[str, Field(min_length=1, max_length=200)]


def _is_skill_id(value: str | None) -> str | None:
    if value is not None and not SKILL_ID.match(value):
        raise ValueError("a skill id is a URI: a scheme, a colon and no spaces")
    return value


SkillId = Annotated[str, Field(max_length=300), AfterValidator(_is_skill_id)]


class SkillRef(BaseModel):
    """A skill named by its id or, for people and HR feeds, by free text that is normalised."""

    model_config = ConfigDict(extra="forbid")

    skill_id: SkillId | None = None
    skill: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Free text, e.g. 'Python programming'",
    )

    @model_validator(mode="after")
    def one_way_to_name_it(self) -> "SkillRef":
        if (self.skill_id is None) == (self.skill is None):
            raise ValueError("give either skill_id or skill (free text), not both")
        return self


class SkillClaim(SkillRef):
    level: int = Field(ge=1, le=5)
    source: SkillSource | None = Field(
        default=None, description="Staff may set it; a worker's own claims are always 'self'."
    )
    verified_at: datetime | None = None
    last_used_at: datetime | None = None


class AspirationIn(SkillRef):
    target_level: int = Field(default=3, ge=1, le=5)


def _unique_refs(items: list[Any]) -> list[Any]:
    keys = [item.skill_id or item.skill.casefold() for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("each skill may appear once")
    return items


Claims = Annotated[list[SkillClaim], Field(max_length=200), AfterValidator(_unique_refs)]
Aspirations = Annotated[list[AspirationIn], Field(max_length=50), AfterValidator(_unique_refs)]
Windows = Annotated[list[DateRange], Field(max_length=100)]


class WorkerFields(BaseModel):
    """Every field of a worker a client may set, all optional (the PATCH body)."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=EMAIL)
    org_unit: str | None = Field(default=None, max_length=100)
    manager_id: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    work_arrangement: WorkArrangement | None = None
    remote_preference: RemotePreference | None = None
    weekly_hours: float | None = Field(default=None, ge=0, le=60)
    max_concurrent_assignments: int | None = Field(default=None, ge=1, le=20)
    availability: Windows | None = None
    blackouts: Windows | None = None
    aspirations: Aspirations | None = None
    preferences: Preferences | None = None


class WorkerUpdate(WorkerFields):
    @field_validator(
        "name",
        "weekly_hours",
        "work_arrangement",
        "remote_preference",
        "max_concurrent_assignments",
        "availability",
        "blackouts",
        "aspirations",
        "preferences",
        mode="before",
    )
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class WorkerCreate(WorkerFields):
    name: str = Field(min_length=1, max_length=200)
    weekly_hours: float = Field(ge=0, le=60)
    skills: Claims = Field(default_factory=list)


class WorkerSkillsReplace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skills: Claims


class SkillVerification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int | None = Field(
        default=None, ge=1, le=5, description="The level the manager vouches for; default: as is"
    )


class WorkerSkillRead(WorkerSkill):
    model_config = ConfigDict(from_attributes=True)


class WorkerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version: int
    external_id: str | None
    name: str
    email: str | None = Field(
        description="Shown only to the worker, their line manager and "
        "admins; null for everyone else."
    )
    org_unit: str | None
    manager_id: str | None
    location: str | None
    timezone: str | None
    work_arrangement: WorkArrangement
    remote_preference: RemotePreference
    status: WorkerStatus
    weekly_hours: float
    max_concurrent_assignments: int
    availability: list[DateRange]
    blackouts: list[DateRange]
    skills: list[WorkerSkillRead]
    aspirations: list[Aspiration]
    preferences: Preferences
    created_at: datetime
    updated_at: datetime


class BulkLineResult(BaseModel):
    line: int
    external_id: str | None = None
    status: Literal["created", "updated", "unchanged", "error"]
    id: uuid.UUID | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BulkResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int
    results: list[BulkLineResult]


class SkillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: SkillId | None = Field(
        default=None,
        description="A URI such as `taskforce:python` or an ESCO skill URI; generated from "
        "the label when omitted.",
    )
    label: str = Field(min_length=1, max_length=300)
    alt_labels: list[Text] = Field(default_factory=list, max_length=500)
    skill_type: str | None = Field(default=None, max_length=100)
    description: str = Field(default="", max_length=10_000)
    broader: list[SkillId] = Field(default_factory=list, max_length=50)
    related: list[SkillId] = Field(default_factory=list, max_length=200)


class SkillUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, min_length=1, max_length=300)
    alt_labels: list[Text] | None = Field(default=None, max_length=500)
    skill_type: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=10_000)
    broader: list[SkillId] | None = Field(default=None, max_length=50)
    related: list[SkillId] | None = Field(default=None, max_length=200)

    # Only `skill_type` may be cleared; the others would leave a skill without a label, or
    # mean nothing (an empty list or text says "none").
    @field_validator("label", "alt_labels", "description", "broader", "related", mode="before")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
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
    source_version: str | None
    broader: list[str]
    related: list[str]
    attributes: dict[str, Any]


class SkillDetail(SkillRead):
    narrower: list[str] = Field(default_factory=list)
    attribution: str | None = None


class NormalizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=1000
    )


class SkillMatchRead(BaseModel):
    skill_id: str
    label: str
    matched_label: str
    confidence: float


class NormalizeResult(BaseModel):
    text: str
    matches: list[SkillMatchRead]


class NormalizeResponse(BaseModel):
    results: list[NormalizeResult]


class SkillImportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source: str
    status: str
    source_version: str | None
    total: int
    processed: int
    created: int
    updated: int
    unchanged: int
    warnings: list[str]
    error: str | None
    attribution: str
    started_at: datetime
    finished_at: datetime | None
