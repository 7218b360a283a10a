"""The hours ledger and the assignment lifecycle, without a database: weeks across a year's
end, what fits a worker's capacity, and which moves each status allows."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import get_args

import pytest

from services.kernel.contracts.matching import (
    AssignmentCompleted,
    AssignmentStatus,
    DemonstratedSkill,
)
from services.matching.assignments_models import (
    LIVE,
    TRANSITIONS,
    Assignment,
    AssignmentNotAllowed,
    SkillsNotOfTask,
)
from services.matching.ledger import Commitment, load_of, over_capacity, week_lines
from services.matching.scoring import WorkerRecord, iso_week_label, week_of, week_start

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ALL_STATUSES = get_args(AssignmentStatus)


def a_commitment(start: date, end: date, hours: float = 4) -> Commitment:
    return Commitment(uuid.uuid4(), uuid.uuid4(), hours, start, end)


def a_worker(**overrides: object) -> WorkerRecord:
    fields: dict = {"id": "w1", "skills": {}, "weekly_hours": 8.0, "max_concurrent": 3}
    fields.update(overrides)
    return WorkerRecord(**fields)


def an_assignment(status: str = "offered", hours: float = 4, version: int = 1) -> Assignment:
    assignment, _ = Assignment.offer(
        task_id=uuid.uuid4(),
        worker_id=uuid.uuid4(),
        hours_per_week=hours,
        start_date=date(2026, 12, 7),
        end_date=date(2026, 12, 31),
        offered_by="owner-1",
        learning_seat=False,
        score=0.8,
        at=AT - timedelta(days=1),
    )
    assignment.status, assignment.version = status, version
    return assignment


def test_the_weeks_of_a_year_end_are_iso_weeks_53_and_1() -> None:
    monday = date(2026, 12, 28)
    assert week_of(date(2027, 1, 3)) == week_of(monday)  # the Sunday after
    assert week_of(date(2027, 1, 4)) == week_of(monday) + 1
    assert week_start(week_of(date(2027, 1, 1))) == monday
    assert [iso_week_label(week_of(monday) + i) for i in range(3)] == [
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]


def test_a_commitment_counts_its_full_hours_in_every_week_its_dates_touch() -> None:
    # Thursday 31 December to Monday 11 January: three ISO weeks, the first and last partial.
    across = a_commitment(date(2026, 12, 31), date(2027, 1, 11), hours=5)
    other = a_commitment(date(2027, 1, 4), date(2027, 1, 8), hours=2.5)
    load = load_of([across, other])
    first = week_of(date(2026, 12, 28))
    assert load.hours == {first: 5, first + 1: 7.5, first + 2: 5}
    assert load.assignments == {first: 1, first + 1: 2, first + 2: 1}


def test_no_commitments_is_no_load() -> None:
    assert load_of([]).hours == {} and load_of([]).assignments == {}


def test_a_commitment_that_exactly_fills_the_week_fits_and_one_hour_more_does_not() -> None:
    worker = a_worker(weekly_hours=8)
    load = load_of([a_commitment(date(2027, 1, 4), date(2027, 1, 15), hours=4)])
    assert over_capacity(worker, load, a_commitment(date(2027, 1, 11), date(2027, 1, 22))) is None
    refusal = over_capacity(worker, load, a_commitment(date(2027, 1, 11), date(2027, 1, 22), 5))
    assert refusal == "2027-W02 would have 9 h committed of 8 h available"


def test_fractional_hours_that_add_up_to_capacity_fit() -> None:
    worker = a_worker(weekly_hours=8.1)
    load = load_of([a_commitment(date(2027, 1, 4), date(2027, 1, 8), 2.7) for _ in range(2)])
    assert (
        over_capacity(worker, load, a_commitment(date(2027, 1, 4), date(2027, 1, 8), 2.7)) is None
    )


def test_the_maximum_of_concurrent_assignments_is_a_limit_of_its_own() -> None:
    worker = a_worker(weekly_hours=40, max_concurrent=2)
    load = load_of([a_commitment(date(2027, 1, 4), date(2027, 1, 8), 1) for _ in range(2)])
    refusal = over_capacity(worker, load, a_commitment(date(2027, 1, 4), date(2027, 1, 8), 1))
    assert refusal is not None and "2 concurrent" in refusal and "2027-W01" in refusal


def test_a_week_with_days_off_has_less_capacity() -> None:
    # Away Monday to Wednesday of 2027-W01: two of five weekdays left, 16 h of 40.
    worker = a_worker(weekly_hours=40, blackouts=((date(2027, 1, 4), date(2027, 1, 6)),))
    refusal = over_capacity(
        worker, load_of([]), a_commitment(date(2027, 1, 4), date(2027, 1, 8), 20)
    )
    assert refusal == "2027-W01 would have 20 h committed of 16 h available"


def test_week_lines_show_capacity_committed_and_a_negative_remainder_when_over() -> None:
    worker = a_worker(weekly_hours=6)
    first = week_of(date(2026, 12, 28))
    heavy = a_commitment(date(2026, 12, 28), date(2027, 1, 8), hours=4)
    light = a_commitment(date(2027, 1, 4), date(2027, 1, 8), hours=3)
    lines = week_lines(worker, [heavy, light], first, 3)
    assert [(w.label, w.committed_hours, w.remaining_hours) for w in lines] == [
        ("2026-W53", 4, 2),
        ("2027-W01", 7, -1),
        ("2027-W02", 0, 6),
    ]
    assert lines[1].commitments == [heavy, light] and lines[2].commitments == []


def _act(assignment: Assignment, action: str):  # type: ignore[no-untyped-def]
    if action == "accept":
        return assignment.accept(AT, 8, timedelta(hours=72))
    if action == "approve":
        return assignment.approve("manager-1", AT)
    if action == "complete":
        return assignment.complete("owner-1", AT.date(), [], set(), AT)
    return getattr(assignment, action)(AT)


@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_each_action_moves_only_from_the_statuses_the_table_allows(
    status: str, action: str
) -> None:
    sources, target = TRANSITIONS[action]
    assignment = an_assignment(status, version=4)
    before = (assignment.status, assignment.version, assignment.updated_at)
    if status in sources:
        events = _act(assignment, action)
        # A 4-hour acceptance is approved at once: two moves.
        moves = 2 if action == "accept" else 1
        assert assignment.status == ("approved" if action == "accept" else target)
        assert (assignment.version, assignment.updated_at) == (4 + moves, AT)
        assert events
    else:
        with pytest.raises(AssignmentNotAllowed):
            _act(assignment, action)
        assert (assignment.status, assignment.version, assignment.updated_at) == before


def test_the_lifecycle_table_reads_as_the_design_says() -> None:
    moves = {action: (set(sources), target) for action, (sources, target) in TRANSITIONS.items()}
    assert moves == {
        "accept": ({"offered"}, "accepted"),
        "decline": ({"offered"}, "declined"),
        "approve": ({"accepted"}, "approved"),
        "start": ({"approved"}, "active"),
        "complete": ({"active"}, "completed"),
        "withdraw": ({"accepted", "approved", "active"}, "withdrawn"),
        "cancel": (set(LIVE), "cancelled"),
    }
    final = {"completed", "declined", "withdrawn", "cancelled"}
    assert not final & {s for sources, _ in moves.values() for s in sources}


def test_a_small_acceptance_is_approved_at_once_with_two_versions() -> None:
    assignment = an_assignment(hours=8)
    events = assignment.accept(AT, 8, timedelta(hours=72))
    assert [(e.status, e.version) for e in events] == [("accepted", 2), ("approved", 3)]
    assert (assignment.approved_by, assignment.approval_due_at) == ("auto", None)


def test_a_larger_acceptance_waits_for_the_manager_until_the_deadline() -> None:
    assignment = an_assignment(hours=8.5)
    events = assignment.accept(AT, 8, timedelta(hours=72))
    assert [(e.status, e.version) for e in events] == [("accepted", 2)]
    assert assignment.approval_due_at == AT + timedelta(hours=72)
    assignment.approve("escalation", AT + timedelta(hours=73))
    assert (assignment.status, assignment.approved_by, assignment.approval_due_at) == (
        "approved",
        "escalation",
        None,
    )


def test_completion_announces_the_endorsed_skills_of_the_task_only() -> None:
    assignment = an_assignment("active", version=4)
    shown = [DemonstratedSkill(skill_id="taskforce:sql", endorsed_level=3)]
    with pytest.raises(SkillsNotOfTask) as refused:
        assignment.complete("owner-1", AT.date(), shown, {"taskforce:python"}, AT)
    assert refused.value.errors and refused.value.errors[0]["loc"] == [
        "body",
        "skills",
        "0",
        "skill_id",
    ]
    assert (assignment.status, assignment.version) == ("active", 4)

    updated, completed = assignment.complete("owner-1", AT.date(), shown, {"taskforce:sql"}, AT)
    assert (updated.status, updated.version) == ("completed", 5)
    assert isinstance(completed, AssignmentCompleted)
    assert (completed.version, completed.endorsed_by, completed.completed_on) == (
        5,
        "owner-1",
        AT.date(),
    )
    assert assignment.endorsed_skills == [{"skill_id": "taskforce:sql", "endorsed_level": 3}]
