"""aiokafka lifecycles: the clients' security, the producer, topic creation, the consumer loop
(inbox, bounded retries, dead letters, offsets committed after the database) and the
broker-loss watch."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.db import Database
from services.kernel.events import Envelope, MalformedEvent, from_kafka
from services.kernel.faults import crash_point
from services.kernel.inbox import already_processed, record_processed
from services.kernel.retries import bounded, until_it_works
from services.kernel.settings import KernelSettings

log = logging.getLogger("taskforce.kafka")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def epoch_topic(service: str) -> str:
    """A topic only its owning service creates: when it is missing, the broker lost its state."""
    return f"{service}.epochs"


def client_security(settings: KernelSettings) -> dict[str, object]:
    """The keyword arguments that authenticate and encrypt an aiokafka client (producer,
    consumer and admin alike); none for the plain default, so the library's defaults hold."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    security: dict[str, object] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        cafile = settings.kafka_ssl_cafile
        security["ssl_context"] = create_ssl_context(cafile=str(cafile) if cafile else None)
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        # The settings refuse a SASL protocol without both, so neither is None here.
        assert settings.kafka_sasl_password is not None
        security["sasl_mechanism"] = settings.kafka_sasl_mechanism
        security["sasl_plain_username"] = settings.kafka_sasl_username
        security["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return security


def new_producer(settings: KernelSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        enable_idempotence=settings.kafka_idempotence,
        acks="all",
        request_timeout_ms=settings.kafka_request_timeout_ms,
        linger_ms=5,
        **client_security(settings),
    )


def new_admin(settings: KernelSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-admin",
        request_timeout_ms=settings.kafka_request_timeout_ms,
        **client_security(settings),
    )


async def ensure_topics(
    admin: AIOKafkaAdminClient, settings: KernelSettings, topics: Iterable[str]
) -> list[str]:
    """Create the missing topics; returns the ones this call created."""
    existing = set(await admin.list_topics())
    missing = sorted(set(topics) - existing)
    if missing:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [
                    NewTopic(name, settings.kafka_partitions, settings.kafka_replication_factor)
                    for name in missing
                ]
            )
    return missing


@dataclass
class BrokerEpoch:
    """Counts the times this process found the broker had lost its state (see
    `watch_broker`). Consumers compare it between sessions to know when to rewind."""

    value: int = 0


class BrokerWasReset(Exception):
    """Ends a consumer session so the next one rewinds to the start of the new logs."""


class _RewindOnAssignment(ConsumerRebalanceListener):
    """After a broker loss, a consumer's remembered positions mean nothing: a new log may
    already be longer than the old position, and reading on from there would skip its start.
    So the session's first assignment seeks every partition to the beginning (the inbox and
    the version checks make the replay harmless)."""

    def __init__(self, consumer: AIOKafkaConsumer, rewind: bool) -> None:
        self.consumer, self.pending = consumer, rewind

    async def on_partitions_revoked(self, revoked: object) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self.pending and assigned:
            await self.consumer.seek_to_beginning(*assigned)
            self.pending = False


@dataclass
class Consumer:
    """A consumer group member: its topics and the explicit table from event type to handler."""

    name: str
    topics: list[str]
    handlers: dict[str, Handler]


async def apply_record(
    db: Database, consumer: Consumer, envelope: Envelope, crash_at: str | None = None
) -> str:
    """Apply one event once: the effect and the inbox row commit together. Returns the
    outcome: `applied`, `duplicate` (seen before) or `ignored` (a type it does not handle)."""
    handler = consumer.handlers.get(envelope.type)
    if handler is None:
        return "ignored"
    async with db.sessions() as session:
        if await already_processed(session, consumer.name, envelope.id):
            return "duplicate"
        await handler(session, envelope)
        record_processed(session, consumer.name, envelope.id, envelope.type)
        await session.commit()
    crash_point("consumer.after_db_commit", crash_at, envelope.type)
    return "applied"


async def _dead_letter(producer: AIOKafkaProducer, record: ConsumerRecord, error: str) -> None:
    headers = [
        *(record.headers or ()),
        ("x-error", error[:2000].encode()),
        ("x-original-topic", record.topic.encode()),
        ("x-original-partition", str(record.partition).encode()),
        ("x-original-offset", str(record.offset).encode()),
    ]
    await producer.send_and_wait(
        dlq_topic(record.topic), value=record.value, key=record.key, headers=headers
    )


async def handle_record(
    db: Database,
    consumer: Consumer,
    producer: AIOKafkaProducer,
    record: ConsumerRecord,
    settings: KernelSettings,
) -> str:
    """Apply a record with bounded retries; a record that still fails goes to `<topic>.dlq`.
    Returns the outcome, `dead_lettered` included."""
    try:
        envelope = from_kafka(record.key, record.value, record.headers)
    except MalformedEvent as exc:
        log.error("malformed record on %s@%d: %s", record.topic, record.offset, exc)
        await _dead_letter(producer, record, str(exc))
        return "dead_lettered"
    retrying = bounded(
        f"event {envelope.id} ({envelope.type})",
        settings.consumer_max_attempts,
        settings.consumer_retry_backoff_s,
    )
    try:
        return await retrying(apply_record, db, consumer, envelope, settings.crash_at)
    except Exception as exc:
        log.error(
            "event %s (%s) failed %d times, dead-lettered: %s",
            envelope.id,
            envelope.type,
            settings.consumer_max_attempts,
            exc,
        )
        await _dead_letter(producer, record, f"{type(exc).__name__}: {exc}")
        return "dead_lettered"


async def consume(
    db: Database,
    consumer: Consumer,
    producer: AIOKafkaProducer,
    settings: KernelSettings,
    outcomes: Counter | None = None,
    epoch: BrokerEpoch | None = None,
    seen: dict[str, int] | None = None,
) -> None:
    """One consumer session, until it fails or the broker is found reset. The offset is
    committed only after the database commit, so a crash in between redelivers the record
    and the inbox discards it."""
    epoch = epoch or BrokerEpoch()
    seen = seen if seen is not None else {}
    started_at = epoch.value
    rewind = seen.get("epoch", started_at) != started_at
    seen["epoch"] = started_at
    kafka = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=consumer.name,
        client_id=f"{settings.service_name}-{consumer.name}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        metadata_max_age_ms=settings.kafka_metadata_max_age_ms,
        request_timeout_ms=max(
            settings.kafka_request_timeout_ms, settings.kafka_session_timeout_ms + 5000
        ),
        **client_security(settings),
    )
    try:
        await kafka.start()
        kafka.subscribe(consumer.topics, listener=_RewindOnAssignment(kafka, rewind))
        while True:
            if epoch.value != started_at:
                raise BrokerWasReset(f"broker reset: {consumer.name} rewinds to the start")
            batches = await kafka.getmany(timeout_ms=500, max_records=200)
            for tp, records in batches.items():
                for record in records:
                    outcome = await handle_record(db, consumer, producer, record, settings)
                    if outcomes is not None:
                        outcomes.labels(consumer.name, outcome).inc()
                await kafka.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})
    finally:
        # A consumer that never started has nothing to release.
        with contextlib.suppress(Exception):
            await kafka.stop()


async def run_consumer(
    db: Database,
    consumer: Consumer,
    producer: AIOKafkaProducer,
    settings: KernelSettings,
    outcomes: Counter | None = None,
    epoch: BrokerEpoch | None = None,
) -> None:
    """Consume forever, starting a new session after any failure (a lost broker included)."""
    seen: dict[str, int] = {}
    await until_it_works(f"consumer {consumer.name}", 10.0)(
        consume, db, consumer, producer, settings, outcomes, epoch, seen
    )


async def watch_broker(
    admin: AIOKafkaAdminClient,
    settings: KernelSettings,
    owned: list[str],
    on_broker_reset: Callable[[], Awaitable[int]],
    ready: asyncio.Event,
) -> None:
    """Create this service's topics, and re-create them when the broker has lost its state.

    The embedded broker keeps everything in memory and any client may auto-create a topic, so
    the sign of a lost broker is this service's epoch topic, which nothing else creates. On
    loss the owned topics are re-created and `on_broker_reset` republishes a snapshot (and
    tells this process's consumers to rewind).
    """
    marker = epoch_topic(settings.service_name)
    while True:
        try:
            if marker not in set(await admin.list_topics()):
                await ensure_topics(admin, settings, owned)
                republished = await on_broker_reset()
                await ensure_topics(admin, settings, [marker])
                log.info("topics ready on broker; %d snapshot events queued", republished)
            ready.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("broker check failed: %s", exc)
        await asyncio.sleep(settings.broker_check_interval_s)
