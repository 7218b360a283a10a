"""FastAPI pieces every service's routes use: the request's database session and the
problem+json responses declared in OpenAPI."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Header, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.errors import DomainError

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, description="The ETag read; a stale one gets 412"),
]


class StaleVersion(DomainError):
    status, title, slug = 412, "Precondition failed", "stale-version"


def check_version(current: int, if_match: str | None) -> None:
    """`If-Match` carries the ETag a client read; a write against an older one is refused."""
    if if_match is None:
        return
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    if "*" not in wanted and str(current) not in wanted:
        raise StaleVersion(f"This is now at version {current}; read it again and retry.")


class FieldError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text, "content": _PROBLEM}
    for status, text in [
        (401, "Missing or invalid bearer token"),
        (403, "The token lacks a required role"),
        (404, "Not found"),
        (409, "The resource's state forbids this"),
        (422, "Invalid input, with field errors"),
    ]
}


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; use cases commit explicitly, anything uncommitted rolls back."""
    async with request.app.state.db.sessions() as session:
        yield session
