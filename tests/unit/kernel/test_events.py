"""The CloudEvents envelope over the Kafka binding, binary mode."""

import pytest

from services.kernel.events import Envelope, MalformedEvent, from_kafka, to_kafka
from tests.builders import a_task_published


def test_an_event_travels_as_binary_mode_headers_keyed_by_its_aggregate() -> None:
    event = a_task_published()
    envelope = Envelope.wrap(event, "/taskforce/catalog")
    key, value, headers = to_kafka(envelope)
    names = dict(headers)
    assert key == str(event.id).encode()
    assert names["ce_type"] == b"taskforce.catalog.task.published.v1"
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_subject"] == str(event.id).encode()
    assert names["content-type"] == b"application/json"
    assert {"ce_id", "ce_source", "ce_time"} <= set(names)
    back = from_kafka(key, value, headers)
    assert back.id == envelope.id and back.type == envelope.type
    assert back.data == event.model_dump(mode="json")
    assert back.time == envelope.time


@pytest.mark.parametrize(
    "value, headers",
    [
        (b"{}", [("content-type", b"application/json")]),
        (
            b"not json",
            [
                ("ce_id", b"1"),
                ("ce_type", b"t"),
                ("ce_source", b"/s"),
                ("ce_specversion", b"1.0"),
                ("ce_subject", b"x"),
                ("ce_time", b"2026-01-01T00:00:00Z"),
                ("content-type", b"application/json"),
            ],
        ),
        (
            b'"a string"',
            [
                ("ce_id", b"1"),
                ("ce_type", b"t"),
                ("ce_source", b"/s"),
                ("ce_specversion", b"1.0"),
                ("ce_subject", b"x"),
                ("ce_time", b"2026-01-01T00:00:00Z"),
                ("content-type", b"application/json"),
            ],
        ),
    ],
)
def test_records_that_are_not_our_cloudevents_are_malformed(value: bytes, headers: list) -> None:
    with pytest.raises(MalformedEvent):
        from_kafka(b"k", value, headers)
