"""The hours ledger: what each worker has committed, per ISO week, from the assignments that
hold their hours. A pure core (commitments → `Load`, week lines, the over-capacity check)
and the few queries that feed it; it writes nothing."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.assignments_models import COMMITS_HOURS, Assignment
from services.matching.scoring import (
    Load,
    WorkerRecord,
    iso_week_label,
    week_of,
    week_start,
    weekly_capacity,
)

# Hours are compared with this slack so that three 2.7 h commitments still fit 8.1 h of capacity.
EPSILON_H = 1e-6


@dataclass(frozen=True, slots=True)
class Commitment:
    """An assignment's hours: the full weekly hours in every ISO week its dates touch (as the
    scoring counts a task's weeks), a partial first or last week included."""

    assignment_id: uuid.UUID
    task_id: uuid.UUID
    hours_per_week: float
    start_date: date
    end_date: date

    def weeks(self) -> range:
        return range(week_of(self.start_date), week_of(self.end_date) + 1)


@dataclass(frozen=True, slots=True)
class WeekLine:
    week: int
    capacity_hours: float
    committed_hours: float
    commitments: list[Commitment] = field(default_factory=list)

    @property
    def label(self) -> str:
        return iso_week_label(self.week)

    @property
    def week_start(self) -> date:
        return week_start(self.week)

    @property
    def remaining_hours(self) -> float:
        """Negative when the worker is over-committed (their weekly hours fell after they
        accepted)."""
        return self.capacity_hours - self.committed_hours


def load_of(commitments: Iterable[Commitment]) -> Load:
    hours: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for commitment in commitments:
        for week in commitment.weeks():
            hours[week] += commitment.hours_per_week
            count[week] += 1
    return Load(hours=dict(hours), assignments=dict(count))


def over_capacity(worker: WorkerRecord, load: Load, adding: Commitment) -> str | None:
    """Why `adding` does not fit the worker's weeks on top of `load`, or None when it fits:
    no week may exceed the worker's capacity, nor their maximum concurrent assignments."""
    for week in adding.weeks():
        capacity = weekly_capacity(worker, week)
        committed = load.hours.get(week, 0.0)
        if committed + adding.hours_per_week > capacity + EPSILON_H:
            return (
                f"{iso_week_label(week)} would have {committed + adding.hours_per_week:g} h "
                f"committed of {capacity:g} h available"
            )
        if load.assignments.get(week, 0) >= worker.max_concurrent:
            return (
                f"{iso_week_label(week)} already has {worker.max_concurrent} concurrent "
                "assignments, the worker's maximum"
            )
    return None


def week_lines(
    worker: WorkerRecord, commitments: Iterable[Commitment], first_week: int, weeks: int
) -> list[WeekLine]:
    by_week: dict[int, list[Commitment]] = defaultdict(list)
    for commitment in commitments:
        for week in commitment.weeks():
            by_week[week].append(commitment)
    return [
        WeekLine(
            week=week,
            capacity_hours=weekly_capacity(worker, week),
            committed_hours=sum(c.hours_per_week for c in by_week[week]),
            commitments=sorted(by_week[week], key=lambda c: (c.start_date, str(c.task_id))),
        )
        for week in range(first_week, first_week + weeks)
    ]


def _commitments(worker_id: uuid.UUID | None = None) -> sa.Select:
    query = sa.select(
        Assignment.worker_id,
        Assignment.id,
        Assignment.task_id,
        Assignment.hours_per_week,
        Assignment.start_date,
        Assignment.end_date,
    ).where(Assignment.status.in_(COMMITS_HOURS))
    if worker_id is not None:
        query = query.where(Assignment.worker_id == worker_id)
    return query


def _commitment(row: sa.Row) -> Commitment:
    return Commitment(row.id, row.task_id, row.hours_per_week, row.start_date, row.end_date)


async def commitments_of(
    session: AsyncSession, worker_id: uuid.UUID, between: tuple[date, date] | None = None
) -> list[Commitment]:
    query = _commitments(worker_id)
    if between is not None:
        query = query.where(Assignment.end_date >= between[0], Assignment.start_date <= between[1])
    return [_commitment(row) for row in await session.execute(query)]


async def worker_load(session: AsyncSession, worker_id: uuid.UUID) -> Load:
    """The worker's committed hours and assignments per week, as scoring takes them."""
    return load_of(await commitments_of(session, worker_id))


async def all_loads(session: AsyncSession) -> dict[str, Load]:
    """Every worker with a commitment (worker id as a string) → their load, in one query."""
    by_worker: dict[str, list[Commitment]] = defaultdict(list)
    for row in await session.execute(_commitments()):
        by_worker[str(row.worker_id)].append(_commitment(row))
    return {worker_id: load_of(commitments) for worker_id, commitments in by_worker.items()}


def window(from_date: date, weeks: int) -> tuple[int, tuple[date, date]]:
    """The first week number of a ledger read and the dates its weeks span."""
    first = week_of(from_date)
    return first, (week_start(first), week_start(first + weeks) - timedelta(days=1))
