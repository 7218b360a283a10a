"""The CloudEvents 1.0 envelope over the Kafka binding in binary content mode, and the base of
every event contract. Pure: no database, no network."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """An event contract: a fact in the past tense carrying the entity's full current state.

    Subclasses set `type` (e.g. `taskforce.catalog.task.published.v1`), `topic` and
    `aggregate`, the field whose value is the Kafka key and the CloudEvents subject.
    """

    model_config = ConfigDict(extra="ignore")
    type: ClassVar[str]
    topic: ClassVar[str]
    aggregate: ClassVar[str] = "id"

    def key(self) -> str:
        return str(getattr(self, self.aggregate))


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: Event, source: str) -> "Envelope":
        return cls(
            id=str(uuid.uuid4()),
            type=event.type,
            source=source,
            subject=event.key(),
            time=datetime.now(UTC),
            data=event.model_dump(mode="json"),
        )


class MalformedEvent(ValueError):
    """A Kafka record that is not a CloudEvent this project can read."""


def to_kafka(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of the Kafka record for an envelope (binary content mode)."""
    ce = CloudEvent(
        attributes={
            "id": envelope.id,
            "type": envelope.type,
            "source": envelope.source,
            "subject": envelope.subject,
            "time": envelope.time,
            "datacontenttype": "application/json",
            "partitionkey": envelope.subject,
        },
        data=envelope.data,
    )
    message = ce_kafka.to_binary_event(ce)
    headers = [
        (name, value) for name, value in message.headers.items() if name != "ce_partitionkey"
    ]
    key = message.key if isinstance(message.key, bytes) else str(message.key).encode()
    return key, message.value, headers


def from_kafka(
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...],
) -> Envelope:
    try:
        message = ce_kafka.KafkaMessage(headers=dict(headers), key=key, value=value or b"")
        ce = ce_kafka.from_binary_event(message)
        data = ce.get_data()
        time = ce.get_time()
        if not isinstance(data, dict) or time is None or not ce.get_subject():
            raise MalformedEvent("event data must be a JSON object with time and subject")
        return Envelope(
            id=ce.get_id(),
            type=ce.get_type(),
            source=ce.get_source(),
            subject=str(ce.get_subject()),
            time=time,
            data=data,
        )
    except MalformedEvent:
        raise
    except Exception as exc:
        raise MalformedEvent(f"not a binary-mode CloudEvent: {exc}") from exc
