"""The outbox backlog on /metrics: how many events wait and how old the oldest is, which is
what an operator alerts on when a relay stops publishing (the broker or the relay is down)."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from services.kernel.db import migrate_async, open_database
from services.kernel.outbox import OutboxMessage, backlog, outbox_table, watch_backlog


def _row(age: timedelta, sent: bool) -> OutboxMessage:
    occurred = datetime.now(UTC) - age
    return OutboxMessage(
        event_id=str(uuid.uuid4()),
        topic="catalog.tasks",
        key="t-1",
        event_type="taskforce.catalog.task.published.v1",
        source="/catalog",
        occurred_at=occurred,
        payload={},
        sent_at=occurred if sent else None,
    )


async def test_backlog_counts_unsent_events_and_ages_the_oldest(database_url: str) -> None:
    await migrate_async(Path("services/catalog/migrations"), database_url)
    db = open_database(database_url)
    registry = CollectorRegistry()
    try:
        assert await backlog(db) == (0, 0.0)
        async with db.sessions() as session:
            session.add_all(
                [
                    _row(timedelta(hours=2), sent=True),  # published long ago: not backlog
                    _row(timedelta(minutes=10), sent=False),
                    _row(timedelta(minutes=1), sent=False),
                ]
            )
            await session.commit()
        count, oldest_s = await backlog(db)
        assert count == 2
        assert 595 <= oldest_s <= 660

        watcher = asyncio.create_task(watch_backlog(db, registry, interval_s=0.05))
        await asyncio.sleep(0.3)
        assert registry.get_sample_value("outbox_unsent_messages") == 2
        assert (registry.get_sample_value("outbox_oldest_unsent_age_seconds") or 0) >= 595

        async with db.sessions() as session:  # the relay catches up
            await session.execute(outbox_table.update().values(sent_at=datetime.now(UTC)))
            await session.commit()
        await asyncio.sleep(0.3)
        assert registry.get_sample_value("outbox_unsent_messages") == 0
        assert registry.get_sample_value("outbox_oldest_unsent_age_seconds") == 0
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        async with db.sessions() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(outbox_table)) == 3
    finally:
        await db.dispose()
