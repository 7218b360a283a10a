"""Async SQLAlchemy engine and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg), the
kernel's own tables (outbox, inbox) and Alembic migrations run per service."""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session

log = logging.getLogger("taskforce.db")

# Tables every service has in its own database (outbox, inbox); declared once here and
# created by each service's first migration.
kernel_metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored and returned as timezone-aware UTC on every database (SQLite keeps
    no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class KernelBase(DeclarativeBase):
    metadata = kernel_metadata


OUTBOX_PENDING = "outbox_pending"


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Set after any commit that wrote to the outbox, so the relay wakes at once.
    outbox_written: asyncio.Event = field(default_factory=asyncio.Event)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


# Every migration takes this PostgreSQL advisory lock, so pods of a new version that start at
# once (init containers, the worker and the API) apply each migration once, one after another.
MIGRATION_LOCK_ID = 0x7461736B666F7263  # "taskforc"


def async_url(url: str) -> str:
    """The URL with an async driver: `postgresql://` and `postgres://` (the form
    CloudNativePG's application secret and libpq tools use) mean asyncpg."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url


def open_database(url: str) -> Database:
    url = async_url(url)
    _ensure_sqlite_dir(url)
    is_sqlite = url.startswith("sqlite")
    kwargs: dict = {"pool_pre_ping": True}
    if is_sqlite:
        # One connection per SQLite file: writers queue on the pool in asyncio instead of
        # sleeping in SQLite's busy handler, which backs off in steps of up to 100 ms.
        kwargs.update(connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=60)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    class _Session(Session):
        """A session class of this database only, so its commit hook wakes this relay."""

    db = Database(
        engine=engine,
        sessions=async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_Session),
    )

    @event.listens_for(_Session, "after_commit")
    def _wake_relay(session: Session) -> None:
        if session.info.pop(OUTBOX_PENDING, False):
            db.outbox_written.set()

    return db


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def _revisions_in(database_url: str) -> tuple[str, ...]:
    async def read() -> tuple[str, ...]:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: tuple(MigrationContext.configure(sync).get_current_heads())
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def migrate(migrations_dir: Path, database_url: str) -> None:
    """Upgrade the service database to head; synchronous, so call it off the event loop.

    A database already at a revision this release does not know was migrated by a newer
    release, and this one is being rolled back to: migrations are backward compatible
    (expand, then contract a release later), so it is left as it is rather than refused."""
    _ensure_sqlite_dir(async_url(database_url))
    cfg = alembic_config(migrations_dir, database_url)
    known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
    newer = [rev for rev in _revisions_in(database_url) if rev not in known]
    if newer:
        log.warning(
            "database is at revision %s, newer than this release knows; left as it is",
            ", ".join(newer),
        )
        return
    command.upgrade(cfg, "head")


async def migrate_async(migrations_dir: Path, database_url: str) -> None:
    await asyncio.to_thread(migrate, migrations_dir, database_url)


def run_alembic_env(target_metadata: MetaData | None = None) -> None:
    """Body of every service's `migrations/env.py`: run the migrations on an async engine."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"

    def do_run(connection) -> None:  # type: ignore[no-untyped-def]
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # Held by this session until the connection closes, across the commits below.
                await connection.execute(
                    text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
                await connection.commit()
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


def create_kernel_tables() -> None:
    """Create the outbox, inbox and idempotency-key tables; called by each service's first
    migration."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "outbox_message",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_message_unsent", "outbox_message", ["sent_at", "position"])
    op.create_table(
        "idempotency_key",
        sa.Column("principal", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "inbox_message",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
