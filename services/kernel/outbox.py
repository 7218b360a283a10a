"""Transactional outbox: events are written in the same transaction as the state change, and
a relay publishes unsent rows in order, then marks them sent. At-least-once by design."""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.kernel.db import OUTBOX_PENDING, Database, KernelBase, UtcDateTime
from services.kernel.events import Envelope, Event, to_kafka
from services.kernel.faults import crash_point
from services.kernel.retries import until_it_works

log = logging.getLogger("taskforce.outbox")


class OutboxMessage(KernelBase):
    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_unsent", "sent_at", "position"),)

    position: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    topic: Mapped[str] = mapped_column(sa.String(200))
    key: Mapped[str] = mapped_column(sa.String(200))
    event_type: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(200))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


outbox_table: sa.Table = OutboxMessage.__table__  # type: ignore[assignment]


def add_event(session: AsyncSession, event: Event, source: str) -> Envelope:
    """Stage an event in the caller's transaction; it is published only if that commits."""
    envelope = Envelope.wrap(event, source)
    session.info[OUTBOX_PENDING] = True
    session.add(
        OutboxMessage(
            event_id=envelope.id,
            topic=event.topic,
            key=envelope.subject,
            event_type=envelope.type,
            source=source,
            occurred_at=envelope.time,
            payload=envelope.data,
        )
    )
    return envelope


async def unsent(session: AsyncSession, limit: int) -> Sequence[sa.Row]:
    result = await session.execute(
        sa.select(outbox_table)
        .where(outbox_table.c.sent_at.is_(None))
        .order_by(outbox_table.c.position)
        .limit(limit)
    )
    return result.all()


def row_envelope(row: sa.Row) -> Envelope:
    return Envelope(
        id=row.event_id,
        type=row.event_type,
        source=row.source,
        subject=row.key,
        time=row.occurred_at,
        data=row.payload,
    )


async def relay_once(db: Database, producer, batch_size: int, crash_at: str | None = None) -> int:
    """Publish one batch of unsent rows in order and mark them sent; returns how many.
    No transaction stays open while the broker acknowledges."""
    async with db.sessions() as session:
        rows = await unsent(session, batch_size)
    if not rows:
        return 0
    # Send the whole batch, then wait for every acknowledgement, in position order.
    futures = []
    for row in rows:
        key, value, headers = to_kafka(row_envelope(row))
        futures.append(await producer.send(row.topic, value=value, key=key, headers=headers))
    for future in futures:
        await future
    crash_point("relay.after_publish", crash_at)
    async with db.sessions() as session:
        await session.execute(
            outbox_table.update()
            .where(outbox_table.c.position.in_([row.position for row in rows]))
            .values(sent_at=datetime.now(UTC))
        )
        await session.commit()
    return len(rows)


async def run_relay(
    db: Database,
    producer,
    *,
    batch_size: int,
    poll_interval_s: float,
    max_backoff_s: float,
    crash_at: str | None = None,
) -> None:
    """Relay forever: wake on a local commit or on the poll interval (for writes made by other
    processes); on a broker or database failure, back off and try the same rows again."""
    retrying = until_it_works("outbox relay", max_backoff_s)
    while True:
        db.outbox_written.clear()
        sent: int = await retrying(relay_once, db, producer, batch_size, crash_at)
        if sent >= batch_size:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(db.outbox_written.wait(), timeout=poll_interval_s)


async def count_unsent(db: Database) -> int:
    return (await backlog(db))[0]


async def backlog(db: Database) -> tuple[int, float]:
    """Unsent rows, and the age in seconds of the oldest (0 when none is waiting)."""
    async with db.sessions() as session:
        result = await session.execute(
            sa.select(sa.func.count(), sa.func.min(outbox_table.c.occurred_at)).where(
                outbox_table.c.sent_at.is_(None)
            )
        )
        count, oldest = result.one()
    if oldest is None:
        return int(count), 0.0
    oldest = oldest.replace(tzinfo=UTC) if oldest.tzinfo is None else oldest
    return int(count), max(0.0, (datetime.now(UTC) - oldest).total_seconds())


async def watch_backlog(db: Database, registry: CollectorRegistry, interval_s: float) -> None:
    """Export the backlog for alerts (a relay that stopped publishing shows as a growing age);
    runs beside the relay, and goes on when the broker is down, which is when it matters."""
    unsent = Gauge("outbox_unsent_messages", "Outbox rows not yet published", registry=registry)
    age = Gauge(
        "outbox_oldest_unsent_age_seconds",
        "Age of the oldest outbox row not yet published (0 when none)",
        registry=registry,
    )
    while True:
        try:
            count, oldest_s = await backlog(db)
            unsent.set(count)
            age.set(oldest_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be away; the next round tries again
            log.warning("outbox backlog not measured: %s", exc)
        await asyncio.sleep(interval_s)
