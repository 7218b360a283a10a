"""At-least-once delivery made exactly-once in effect: duplicates, a consumer killed between
its database commit and its offset commit, and a relay killed before marking a row sent."""

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.kernel.events import Envelope, to_kafka
from tests.builders import a_task, a_task_published
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e


async def test_an_event_published_twice_is_applied_once(stack: Stack) -> None:
    stack.start("matching")
    event = a_task_published()
    key, value, headers = to_kafka(Envelope.wrap(event, "/test"))
    producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{stack.broker_port}")
    await producer.start()
    try:
        for _ in range(2):
            await producer.send_and_wait("catalog.tasks", value=value, key=key, headers=headers)
    finally:
        await producer.stop()
    eventually(lambda: stack.consumed("matching", "duplicate") == 1, what="duplicate seen")
    assert stack.consumed("matching", "applied") == 1
    assert stack.query("matching", "SELECT version FROM task_view") == [(2,)]
    assert stack.query("matching", "SELECT count(*) FROM inbox_message") == [(1,)]


async def test_a_consumer_killed_after_its_commit_applies_nothing_twice(stack: Stack) -> None:
    stack.start("catalog")
    await stack.teach_catalog_skills("taskforce:python")
    stack.start(
        "matching",
        TASKFORCE_CRASH_AT="consumer.after_db_commit:taskforce.catalog.task.published.v1",
    )
    manager = stack.client("catalog", "manager")
    task = manager.post("/v1/tasks", json=a_task()).json()
    manager.post(f"/v1/tasks/{task['id']}:publish").raise_for_status()

    # Matching applies the event, commits, and dies before committing the Kafka offset.
    assert stack.wait_exit("matching") != 0
    # Whether the skill event was read before the crash depends on partition order; if it
    # was not, it is applied (once) after the restart, and only it.
    skill_pending = stack.query(
        "matching", "SELECT count(*) FROM inbox_message WHERE event_type LIKE '%skill.upserted%'"
    ) == [(0,)]
    assert stack.query("matching", "SELECT id, version FROM task_view") == [
        (uuid.UUID(task["id"]).hex, 2)
    ]

    stack.start("matching")
    eventually(
        lambda: stack.consumed("matching", "duplicate") >= 1,
        what="the redelivered event is recognised",
    )
    expected = 1 if skill_pending else 0
    eventually(
        lambda: stack.consumed("matching", "applied") == expected,
        timeout_s=10,
        what="only the pending skill event applied",
    )
    assert stack.query(
        "matching",
        "SELECT count(*) FROM inbox_message WHERE event_type = "
        "'taskforce.catalog.task.published.v1'",
    ) == [(1,)]


async def test_a_relay_killed_before_marking_sent_resends_and_the_consumer_ignores_it(
    stack: Stack,
) -> None:
    stack.start("matching")
    stack.start("catalog", TASKFORCE_CRASH_AT="relay.after_publish")
    await stack.teach_catalog_skills("taskforce:python")
    manager = stack.client("catalog", "manager")
    task = manager.post("/v1/tasks", json=a_task()).json()
    manager.post(f"/v1/tasks/{task['id']}:publish")

    assert stack.wait_exit("catalog") != 0
    assert stack.query("catalog", "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL") == [
        (1,)
    ]
    eventually(
        lambda: stack.query("matching", "SELECT count(*) FROM task_view") == [(1,)],
        what="the first send reaches matching",
    )

    stack.start("catalog")
    eventually(
        lambda: (
            stack.query("catalog", "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL")
            == [(0,)]
        ),
        what="the row is resent and marked",
    )
    eventually(lambda: stack.consumed("matching", "duplicate") >= 1, what="duplicate ignored")
    assert stack.consumed("matching", "applied") == 2  # the skill, and the task once
    assert stack.query("matching", "SELECT count(*) FROM task_view") == [(1,)]


async def test_poison_records_go_to_the_dead_letter_topic_and_the_consumer_moves_on(
    stack: Stack,
) -> None:
    stack.start(
        "matching", TASKFORCE_CONSUMER_MAX_ATTEMPTS="3", TASKFORCE_CONSUMER_RETRY_BACKOFF_S="0.05"
    )
    good = a_task_published()
    _, good_value, good_headers = to_kafka(Envelope.wrap(good, "/test"))
    # A CloudEvent of a known type whose data breaks the contract fails on every attempt.
    broken = Envelope.wrap(a_task_published(), "/test")
    broken_key, _, broken_headers = to_kafka(broken)
    producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{stack.broker_port}")
    await producer.start()
    try:
        await producer.send_and_wait("catalog.tasks", value=b"\xff not an event", key=b"x")
        await producer.send_and_wait(
            "catalog.tasks", value=b'{"id": "nope"}', key=broken_key, headers=broken_headers
        )
        await producer.send_and_wait(
            "catalog.tasks", value=good_value, key=str(good.id).encode(), headers=good_headers
        )
    finally:
        await producer.stop()
    # Three keys, three partitions: the outcomes arrive in any order.
    eventually(lambda: stack.consumed("matching", "dead_lettered") == 2, what="dead letters")
    eventually(lambda: stack.consumed("matching", "applied") == 1, what="the good event")
    assert stack.query("matching", "SELECT count(*) FROM task_view") == [(1,)]

    consumer = AIOKafkaConsumer(
        "catalog.tasks.dlq",
        group_id="dlq-reader",
        bootstrap_servers=f"127.0.0.1:{stack.broker_port}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    try:
        letters = []
        while len(letters) < 2:
            batch = await consumer.getmany(timeout_ms=10_000)
            assert batch, "dead letters expected"
            letters += [record for records in batch.values() for record in records]
    finally:
        await consumer.stop()
    errors = sorted(dict(letter.headers)["x-error"].decode()[:40] for letter in letters)
    assert any("ValidationError" in error for error in errors), errors
    assert {dict(letter.headers)["x-original-topic"] for letter in letters} == {b"catalog.tasks"}
