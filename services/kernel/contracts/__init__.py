"""Event contracts: the only thing services share. Additive changes only; a breaking change is
a new type ending in `.v2`. `EVENT_TYPES` is the registry the AsyncAPI document is built from."""

from services.kernel.contracts.catalog import TaskClosed, TaskPublished, TaskUpdated
from services.kernel.contracts.matching import (
    AssignmentCompleted,
    AssignmentUpdated,
    InterestExpressed,
    InterestWithdrawn,
    MatchRunCompleted,
)
from services.kernel.contracts.profiles import SkillUpserted, WorkerErased, WorkerUpserted
from services.kernel.events import Event

EVENT_TYPES: dict[str, type[Event]] = {
    contract.type: contract
    for contract in (
        TaskPublished,
        TaskUpdated,
        TaskClosed,
        WorkerUpserted,
        WorkerErased,
        SkillUpserted,
        AssignmentCompleted,
        AssignmentUpdated,
        MatchRunCompleted,
        InterestExpressed,
        InterestWithdrawn,
    )
}

__all__ = [
    "EVENT_TYPES",
    "AssignmentCompleted",
    "AssignmentUpdated",
    "InterestExpressed",
    "InterestWithdrawn",
    "MatchRunCompleted",
    "SkillUpserted",
    "TaskClosed",
    "TaskPublished",
    "TaskUpdated",
    "WorkerErased",
    "WorkerUpserted",
]
