"""`Idempotency-Key` on creates: the key, per caller, is stored in the same transaction as the
resource it created, so a retried create returns that resource instead of making another."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import sqlalchemy as sa
from fastapi import Header, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.kernel.db import KernelBase, UtcDateTime
from services.kernel.errors import InvalidInput

T = TypeVar("T")
KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a create safe to retry: the same key and body return the "
        "resource the first request created.",
    ),
]


class IdempotencyKeyReused(InvalidInput):
    title, slug = "Idempotency key reused", "idempotency-key-reused"


class IdempotencyRecord(KernelBase):
    __tablename__ = "idempotency_key"

    principal: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    resource_id: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class Claim:
    """A caller's key for one create, and the fingerprint of the body it came with."""

    principal: str
    key: str
    request_hash: str

    def remember(self, session: AsyncSession, resource_id: str) -> None:
        """Called by the use case before its commit, so the key and the resource commit
        together."""
        session.add(
            IdempotencyRecord(
                principal=self.principal,
                key=self.key,
                request_hash=self.request_hash,
                resource_id=resource_id,
                created_at=datetime.now(UTC),
            )
        )

    async def previous(self, session: AsyncSession) -> str | None:
        record = await session.get(IdempotencyRecord, (self.principal, self.key))
        if record is None:
            return None
        if record.request_hash != self.request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request body.",
                errors=[
                    {
                        "loc": ["header", "Idempotency-Key"],
                        "msg": "key already used for another request",
                        "type": "reused",
                    }
                ],
            )
        return record.resource_id


def claim(principal: str, key: str | None, body: BaseModel) -> Claim | None:
    if key is None:
        return None
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    return Claim(principal=principal, key=key, request_hash=digest)


async def create_once(
    session: AsyncSession,
    claimed: Claim | None,
    create: Callable[[], Awaitable[T]],
    load: Callable[[str], Awaitable[T]],
) -> tuple[T, bool]:
    """Run `create` unless the key already created something; returns (resource, replayed).
    Two concurrent requests with one key: the loser's commit hits the primary key and it
    answers with the winner's resource."""
    if claimed is None:
        return await create(), False
    previous = await claimed.previous(session)
    if previous is not None:
        return await load(previous), True
    try:
        return await create(), False
    except IntegrityError:
        await session.rollback()
        previous = await claimed.previous(session)
        if previous is None:
            raise
        return await load(previous), True


def mark_created(response: Response, location: str, replayed: bool) -> None:
    """The headers of a create's answer: where the resource lives, and whether this answer
    replays an earlier request with the same key."""
    response.headers["Location"] = location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
