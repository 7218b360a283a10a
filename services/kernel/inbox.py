"""Inbox: the ids of the events a consumer has applied, written in the same transaction as the
effect, so an event delivered again is recognised and applied once."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.kernel.db import KernelBase, UtcDateTime


class InboxMessage(KernelBase):
    __tablename__ = "inbox_message"

    consumer: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(sa.String(200))
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime)


async def already_processed(session: AsyncSession, consumer: str, event_id: str) -> bool:
    return await session.get(InboxMessage, (consumer, event_id)) is not None


def record_processed(session: AsyncSession, consumer: str, event_id: str, event_type: str) -> None:
    session.add(
        InboxMessage(
            consumer=consumer,
            event_id=event_id,
            event_type=event_type,
            processed_at=datetime.now(UTC),
        )
    )
