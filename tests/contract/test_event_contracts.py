"""Every event contract round-trips through the envelope, and the registry matches the
snapshot: a field removed or retyped is a breaking change that needs a `.v2` type."""

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.kernel.contracts import EVENT_TYPES
from services.kernel.events import Envelope, from_kafka, to_kafka
from tests.builders import a_task_published, a_worker_upserted

SNAPSHOT = Path(__file__).with_name("event_schemas.json")


def _examples() -> list:
    from services.kernel.contracts import (
        AssignmentCompleted,
        AssignmentUpdated,
        InterestExpressed,
        InterestWithdrawn,
        MatchRunCompleted,
        SkillUpserted,
        TaskClosed,
        TaskUpdated,
        WorkerErased,
    )

    task = a_task_published().model_dump()
    worker = a_worker_upserted().model_dump()
    return [
        a_task_published(),
        TaskUpdated(**task),
        TaskClosed(**task | {"status": "cancelled"}),
        WorkerErased(id=worker["id"], version=worker["version"] + 1),
        a_worker_upserted(),
        SkillUpserted(id="taskforce:python", version=1, label="Python", source="taskforce"),
        AssignmentUpdated(
            id=uuid.uuid4(),
            version=2,
            task_id=uuid.uuid4(),
            worker_id=worker["id"],
            status="accepted",
        ),
        AssignmentCompleted(
            id=uuid.uuid4(),
            version=1,
            task_id=uuid.uuid4(),
            worker_id=worker["id"],
            completed_on=date(2026, 11, 20),
            endorsed_by="manager-1",
            skills=[{"skill_id": "taskforce:python", "endorsed_level": 4}],
        ),
        MatchRunCompleted(
            id=uuid.uuid4(),
            status="succeeded",
            requested_by="manager-1",
            proposals=12,
            statistics={"tasks": 5, "candidate_pairs": 40, "objective": 9.5, "gap": 0.0},
        ),
        InterestExpressed(
            worker_id=worker["id"],
            task_id=task["id"],
            expressed_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        ),
        InterestWithdrawn(
            worker_id=worker["id"],
            task_id=task["id"],
            withdrawn_at=datetime(2026, 11, 21, 17, 0, tzinfo=UTC),
            reason="task_closed",
        ),
    ]


@pytest.mark.parametrize("event", _examples(), ids=lambda e: e.type)
def test_every_event_round_trips(event) -> None:  # type: ignore[no-untyped-def]
    envelope = Envelope.wrap(event, "/test")
    back = from_kafka(*to_kafka(envelope))
    assert EVENT_TYPES[back.type].model_validate(back.data) == event


def test_every_contract_has_an_example() -> None:
    assert {e.type for e in _examples()} == set(EVENT_TYPES)


def test_contracts_only_grow() -> None:
    current = {name: model.model_json_schema() for name, model in sorted(EVENT_TYPES.items())}
    if not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
        pytest.fail(f"no snapshot: wrote {SNAPSHOT.name}; review and commit it")
    recorded = json.loads(SNAPSHOT.read_text())
    for name, schema in recorded.items():
        assert name in current, f"{name} was removed: publish a new type instead"
        now = current[name]
        for field, spec in schema.get("properties", {}).items():
            assert field in now.get("properties", {}), f"{name}.{field} was removed"
            assert now["properties"][field] == spec, f"{name}.{field} changed its type"
        assert set(now.get("required", [])) <= set(schema.get("required", [])), (
            f"{name} requires a new field: old producers would break consumers"
        )
