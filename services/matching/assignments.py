"""Assignment use cases: the offer and each move of the lifecycle. Each loads, checks who may
act, applies one rule of the model, stages the events in the outbox and commits once."""

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.contracts.matching import HOLDS_SEAT, DemonstratedSkill
from services.kernel.idempotency import Claim
from services.kernel.outbox import add_event
from services.kernel.web import check_version
from services.matching.assignments_access import get_assignment, relations
from services.matching.assignments_models import (
    LIVE,
    Assignment,
    AssignmentAlreadyLive,
    AssignmentNotAllowed,
    AssignmentNotYours,
    ProposalAlreadyOffered,
    ProposalNotFound,
    TaskSeatsTaken,
    WorkerNotEligible,
    WorkerOverCapacity,
)
from services.matching.assignments_schemas import AssignmentCreate
from services.matching.ledger import Commitment, over_capacity, worker_load
from services.matching.models import SkillView, TaskView, WorkerNotKnown, WorkerView
from services.matching.records import task_record, taxonomy_of, worker_record
from services.matching.runs_models import Proposal
from services.matching.scoring import evaluate
from services.matching.service import get_task_view, get_worker_view
from services.matching.settings import MatchingSettings

SOURCE = "/taskforce/matching"


def now() -> datetime:
    return datetime.now(UTC)


async def _for_change(
    session: AsyncSession,
    assignment_id: uuid.UUID,
    user: CurrentUser,
    if_match: str | None,
    who: set[str],
    refusal: str,
) -> Assignment:
    """Load and lock the assignment, check the caller is one of `who`, then the version."""
    assignment = await get_assignment(session, assignment_id, lock=True)
    if not who & await relations(session, assignment, user):
        raise AssignmentNotYours(refusal)
    check_version(assignment.version, if_match)
    return assignment


async def _seats_held(session: AsyncSession, task_id: uuid.UUID) -> tuple[int, int]:
    """Seats of the task held in matching's own table: all of them, and learning seats."""
    rows = await session.execute(
        sa.select(Assignment.learning_seat, sa.func.count())
        .where(Assignment.task_id == task_id, Assignment.status.in_(HOLDS_SEAT))
        .group_by(Assignment.learning_seat)
    )
    counts = {bool(learning): int(count) for learning, count in rows.all()}
    return counts.get(False, 0) + counts.get(True, 0), counts.get(True, 0)


async def _ensure_seat(session: AsyncSession, task: TaskView, learning_seat: bool) -> None:
    """Learning seats are some of the task's seats, not extra ones."""
    held, learning_held = await _seats_held(session, task.id)
    if held >= task.seats:
        raise TaskSeatsTaken(f"All {task.seats} seat(s) of the task are held.")
    if learning_seat and learning_held >= task.learning_seats:
        raise TaskSeatsTaken(f"All {task.learning_seats} learning seat(s) of the task are held.")


async def offer_assignment(
    session: AsyncSession, data: AssignmentCreate, user: CurrentUser, claimed: Claim | None
) -> Assignment:
    proposal = None
    if data.proposal_id is not None:
        proposal = await session.get(Proposal, data.proposal_id)
        if proposal is None:
            raise ProposalNotFound(f"No proposal with id {data.proposal_id}.")
        if proposal.assignment_id is not None:
            raise ProposalAlreadyOffered(
                f"This proposal was offered already, as assignment {proposal.assignment_id}."
            )
        task_id, worker_id = proposal.task_id, proposal.worker_id
    else:
        assert data.task_id is not None and data.worker_id is not None
        task_id, worker_id = data.task_id, data.worker_id
    task = await get_task_view(session, task_id)
    if not user.has_any("admin", "service") and task.owner_id != user.sub:
        raise AssignmentNotYours("Only the task's owner, an admin or a service may offer it.")
    worker = await get_worker_view(session, worker_id)
    live = await session.scalar(
        sa.select(Assignment.id).where(
            Assignment.task_id == task.id,
            Assignment.worker_id == worker.id,
            Assignment.status.in_(LIVE),
        )
    )
    if live is not None:
        raise AssignmentAlreadyLive(f"The worker already has this task: assignment {live}.")
    verdict = evaluate(
        task_record(task),
        worker_record(worker),
        taxonomy_of(await session.scalars(sa.select(SkillView))),
        await worker_load(session, worker.id),
    )
    if not verdict.eligible:
        raise WorkerNotEligible(f"The worker cannot take this task: {verdict.excluded_by}.")
    # A stretch candidate needs a learning seat; so does one the solver proposed for one.
    learning_seat = verdict.learning_seat or bool(proposal and proposal.learning_seat)
    await _ensure_seat(session, task, learning_seat)
    assignment, event = Assignment.offer(
        task_id=task.id,
        worker_id=worker.id,
        hours_per_week=task.hours_per_week,
        start_date=task.start_date,
        end_date=task.end_date,
        offered_by=user.sub,
        learning_seat=learning_seat,
        score=proposal.score if proposal else verdict.score,
        at=now(),
        match_run_id=proposal.run_id if proposal else None,
        proposal_id=proposal.id if proposal else None,
    )
    session.add(assignment)
    try:
        # The partial unique index settles two offers of one task to one worker at once.
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise AssignmentAlreadyLive("The worker was offered this task a moment ago.") from exc
    if proposal is not None:
        proposal.assignment_id = assignment.id
    add_event(session, event, SOURCE)
    if claimed is not None:
        claimed.remember(session, str(assignment.id))
    await session.commit()
    return assignment


async def accept_assignment(
    session: AsyncSession,
    assignment_id: uuid.UUID,
    user: CurrentUser,
    if_match: str | None,
    settings: MatchingSettings,
) -> Assignment:
    assignment = await _for_change(
        session, assignment_id, user, if_match, {"worker"}, "Only the offered worker may accept."
    )
    assignment.ensure_may("accept")
    # Lock the worker's row, then the task's, so that concurrent acceptances queue: the later
    # one sees the hours and the seat the earlier one took. (SQLite has a single writer.)
    worker = await session.get(WorkerView, assignment.worker_id, with_for_update=True)
    task = await session.get(TaskView, assignment.task_id, with_for_update=True)
    if worker is None or worker.status == "erased":
        raise WorkerNotKnown(f"Matching does not know worker {assignment.worker_id}.")
    if worker.status != "active":
        raise AssignmentNotAllowed(f"The worker is {worker.status}.")
    if task is None or task.status in ("completed", "cancelled"):
        raise AssignmentNotAllowed(f"The task is {task.status if task else 'gone'}.")
    adding = Commitment(
        assignment.id,
        assignment.task_id,
        assignment.hours_per_week,
        assignment.start_date,
        assignment.end_date,
    )
    problem = over_capacity(worker_record(worker), await worker_load(session, worker.id), adding)
    if problem is not None:
        raise WorkerOverCapacity(f"Accepting would over-commit the worker: {problem}.")
    await _ensure_seat(session, task, assignment.learning_seat)
    deadline = timedelta(hours=settings.approval_deadline_h)
    for event in assignment.accept(now(), settings.auto_approve_max_hours_per_week, deadline):
        add_event(session, event, SOURCE)
    await session.commit()
    return assignment


async def approve_assignment(
    session: AsyncSession, assignment_id: uuid.UUID, user: CurrentUser, if_match: str | None
) -> Assignment:
    assignment = await _for_change(
        session,
        assignment_id,
        user,
        if_match,
        {"manager", "admin"},
        "Only the worker's line manager or an admin may approve.",
    )
    add_event(session, assignment.approve(user.sub, now()), SOURCE)
    await session.commit()
    return assignment


async def decline_assignment(
    session: AsyncSession,
    assignment_id: uuid.UUID,
    user: CurrentUser,
    if_match: str | None,
    reason: str | None,
) -> Assignment:
    assignment = await _for_change(
        session, assignment_id, user, if_match, {"worker"}, "Only the offered worker may decline."
    )
    add_event(session, assignment.decline(now(), reason), SOURCE)
    await session.commit()
    return assignment


async def start_assignment(
    session: AsyncSession, assignment_id: uuid.UUID, user: CurrentUser, if_match: str | None
) -> Assignment:
    assignment = await _for_change(
        session,
        assignment_id,
        user,
        if_match,
        {"owner", "admin"},
        "Only the task's owner or an admin may start the work.",
    )
    add_event(session, assignment.start(now()), SOURCE)
    await session.commit()
    return assignment


async def complete_assignment(
    session: AsyncSession,
    assignment_id: uuid.UUID,
    user: CurrentUser,
    if_match: str | None,
    skills: list[DemonstratedSkill],
) -> Assignment:
    """Only the task's owner knows what the work showed, so only they complete and endorse."""
    assignment = await _for_change(
        session, assignment_id, user, if_match, {"owner"}, "Only the task's owner may complete."
    )
    task = await get_task_view(session, assignment.task_id)
    task_skills = {s["skill_id"] for s in task.required_skills} | set(task.learning_skills or ())
    at = now()
    for event in assignment.complete(user.sub, at.date(), skills, task_skills, at):
        add_event(session, event, SOURCE)
    await session.commit()
    return assignment


async def withdraw_assignment(
    session: AsyncSession,
    assignment_id: uuid.UUID,
    user: CurrentUser,
    if_match: str | None,
    reason: str | None,
) -> Assignment:
    assignment = await _for_change(
        session, assignment_id, user, if_match, {"worker"}, "Only the worker may withdraw."
    )
    add_event(session, assignment.withdraw(now(), reason), SOURCE)
    await session.commit()
    return assignment


async def cancel_assignment(
    session: AsyncSession,
    assignment_id: uuid.UUID,
    user: CurrentUser,
    if_match: str | None,
    reason: str | None,
) -> Assignment:
    assignment = await _for_change(
        session,
        assignment_id,
        user,
        if_match,
        {"owner", "admin", "service"},
        "Only the task's owner, an admin or a service may cancel.",
    )
    add_event(session, assignment.cancel(now(), reason), SOURCE)
    await session.commit()
    return assignment


async def snapshot_assignments(session: AsyncSession) -> int:
    """Stage every assignment's current state (after a broker loss), so the catalog can count
    seats again."""
    count = 0
    for assignment in await session.scalars(sa.select(Assignment).order_by(Assignment.created_at)):
        add_event(session, assignment.current_event(), SOURCE)
        count += 1
    return count
