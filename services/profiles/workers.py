"""Worker use cases: register, read, update, skills, verification, status, erasure, search and
the HRIS bulk upsert. Each loads, applies one rule of the model, stages the event in the
outbox and commits once. Who may do what is decided here, next to the rule it guards."""

import json
import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import CurrentUser
from services.kernel.contracts.profiles import WorkerSkill
from services.kernel.errors import DomainError
from services.kernel.idempotency import Claim
from services.kernel.labels import LabelCache
from services.kernel.outbox import OutboxMessage, add_event
from services.kernel.pagination import paginate, parse_datetime
from services.kernel.web import check_version
from services.profiles.models import (
    SELF_EDITABLE,
    NotAllowed,
    SkillEvidence,
    Worker,
    WorkerAlreadyExists,
    WorkerNotFound,
    WorkerSkillRow,
)
from services.profiles.schemas import (
    BulkLineResult,
    BulkResult,
    SkillClaim,
    WorkerCreate,
    WorkerFields,
    WorkerRead,
)
from services.profiles.skills import SOURCE, resolve_refs

STAFF = ("admin", "service")


def is_self(worker: Worker, user: CurrentUser) -> bool:
    return user.worker_id is not None and user.worker_id == str(worker.id)


def may_read(worker: Worker, user: CurrentUser) -> bool:
    """The worker, their line manager, managers (who staff work), admins and the HRIS."""
    return is_self(worker, user) or user.has_any("manager", *STAFF)


def sees_personal_data(worker: Worker, user: CurrentUser) -> bool:
    """Contact details: the worker, their line manager and admins only."""
    return (
        is_self(worker, user)
        or user.has_any("admin")
        or (user.has_any("manager") and worker.is_line_manager(user.worker_id, user.sub))
    )


def present(worker: Worker, user: CurrentUser) -> WorkerRead:
    read = WorkerRead.model_validate(worker)
    if not sees_personal_data(worker, user):
        read.email = None
    return read


def default_source(user: CurrentUser, worker: Worker | None) -> str:
    if worker is not None and is_self(worker, user):
        return "self"
    return "imported" if user.has_any("service") else "manager"


async def _claims_to_skills(
    session: AsyncSession,
    labels: LabelCache,
    claims: list[SkillClaim],
    user: CurrentUser,
    worker: Worker | None,
) -> list[WorkerSkill]:
    ids = await resolve_refs(session, labels, claims, "skills")
    own = worker is not None and is_self(worker, user) and not user.has_any(*STAFF)
    current = {row.skill_id: row for row in worker.skills} if worker is not None else {}
    skills = []
    for skill_id, claim in zip(ids, claims, strict=True):
        kept = current.get(skill_id)
        if own and kept is not None and kept.level == claim.level:
            # Re-stating a skill at the same level keeps its provenance (a manager's or an
            # assessment's word is not downgraded to a self-claim).
            skills.append(kept.as_contract())
            continue
        source = "self" if own else (claim.source or default_source(user, worker))
        skills.append(
            WorkerSkill(
                skill_id=skill_id,
                level=claim.level,
                source=source,
                verified_at=None if own else claim.verified_at,
                last_used_at=claim.last_used_at,
            )
        )
    return skills


async def _aspirations(
    session: AsyncSession, labels: LabelCache, data: WorkerFields
) -> list[dict[str, Any]] | None:
    if data.aspirations is None:
        return None
    ids = await resolve_refs(session, labels, data.aspirations, "aspirations")
    return [
        {"skill_id": skill_id, "target_level": a.target_level}
        for skill_id, a in zip(ids, data.aspirations, strict=True)
    ]


def _plain(data: WorkerFields, exclude: set[str]) -> dict[str, Any]:
    fields = data.model_dump(exclude_unset=True, exclude=exclude | {"aspirations"}, mode="json")
    return fields


async def _external_id_free(
    session: AsyncSession, external_id: str | None, worker_id: uuid.UUID | None = None
) -> None:
    if not external_id:
        return
    owner = await session.scalar(sa.select(Worker.id).where(Worker.external_id == external_id))
    if owner is not None and owner != worker_id:
        raise WorkerAlreadyExists(f"A worker with external_id {external_id} exists.")


async def _new_worker(
    session: AsyncSession, labels: LabelCache, data: WorkerCreate, user: CurrentUser
) -> Worker:
    """A worker built from a create body, added to the session with its event staged."""
    await _external_id_free(session, data.external_id)
    skills = await _claims_to_skills(session, labels, data.skills, user, None)
    aspirations = await _aspirations(session, labels, data) or []
    worker = Worker(
        **_plain(data, {"skills"}),
        id=uuid.uuid4(),
        version=0,
        status="active",
        aspirations=aspirations,
        skills=[],
    )
    for name, default in (
        ("work_arrangement", "employee"),
        ("remote_preference", "any"),
        ("max_concurrent_assignments", 3),
        ("availability", []),
        ("blackouts", []),
        ("preferences", {}),
    ):
        if getattr(worker, name) is None:
            setattr(worker, name, default)
    session.add(worker)
    add_event(session, worker.replace_skills(skills), SOURCE)
    return worker


async def register_worker(
    session: AsyncSession,
    labels: LabelCache,
    data: WorkerCreate,
    user: CurrentUser,
    claimed: Claim | None = None,
) -> Worker:
    worker = await _new_worker(session, labels, data, user)
    if claimed is not None:
        claimed.remember(session, str(worker.id))
    await session.commit()
    return worker


async def get_worker(session: AsyncSession, worker_id: uuid.UUID) -> Worker:
    worker = await session.get(Worker, worker_id)
    if worker is None:
        raise WorkerNotFound(f"No worker with id {worker_id}.")
    return worker


async def read_worker(session: AsyncSession, worker_id: uuid.UUID, user: CurrentUser) -> Worker:
    worker = await get_worker(session, worker_id)
    if worker.status == "erased":
        raise WorkerNotFound(f"No worker with id {worker_id}.")
    if not may_read(worker, user):
        raise NotAllowed("You may only read your own profile.")
    return worker


async def update_worker(
    session: AsyncSession,
    labels: LabelCache,
    worker_id: uuid.UUID,
    data: WorkerFields,
    user: CurrentUser,
    if_match: str | None,
) -> Worker:
    worker = await read_worker(session, worker_id, user)
    check_version(worker.version, if_match)
    requested = set(data.model_fields_set)
    if not user.has_any(*STAFF):
        # A worker keeps their own capacity, preferences and aspirations current; HR data
        # (org unit, manager, arrangement, external id, email) belongs to the HRIS and admins.
        if not is_self(worker, user):
            raise NotAllowed(
                "Only the worker themself, an admin or the HRIS may edit this "
                "profile; a line manager verifies skills instead."
            )
        forbidden = sorted(requested - SELF_EDITABLE)
        if forbidden:
            raise NotAllowed(f"You may not change: {', '.join(forbidden)}.")
    if "external_id" in requested:
        await _external_id_free(session, data.external_id, worker.id)
    changes = _plain(data, set())
    aspirations = await _aspirations(session, labels, data)
    if aspirations is not None:
        changes["aspirations"] = aspirations
    event = worker.update(changes)
    if event is not None:
        add_event(session, event, SOURCE)
        await session.commit()
    return worker


async def replace_worker_skills(
    session: AsyncSession,
    labels: LabelCache,
    worker_id: uuid.UUID,
    claims: list[SkillClaim],
    user: CurrentUser,
    if_match: str | None,
) -> Worker:
    worker = await read_worker(session, worker_id, user)
    check_version(worker.version, if_match)
    if not (is_self(worker, user) or user.has_any(*STAFF)):
        raise NotAllowed(
            "Only the worker themself, an admin or the HRIS replace skills; a "
            "line manager verifies them."
        )
    worker.ensure_not_erased()
    skills = await _claims_to_skills(session, labels, claims, user, worker)
    add_event(session, worker.replace_skills(skills, verified_by=user.sub), SOURCE)
    await session.commit()
    return worker


async def verify_worker_skill(
    session: AsyncSession, worker_id: uuid.UUID, skill_id: str, level: int | None, user: CurrentUser
) -> Worker:
    worker = await read_worker(session, worker_id, user)
    line_manager = user.has_any("manager") and worker.is_line_manager(user.worker_id, user.sub)
    if not (line_manager or user.has_any("admin")):
        raise NotAllowed("Only the worker's line manager or an admin may verify a skill.")
    add_event(session, worker.verify_skill(skill_id, level, by=user.sub), SOURCE)
    await session.commit()
    return worker


async def set_worker_status(
    session: AsyncSession, worker_id: uuid.UUID, status: str, user: CurrentUser
) -> Worker:
    worker = await read_worker(session, worker_id, user)
    if not user.has_any(*STAFF):
        raise NotAllowed("Only an admin or the HRIS activates or deactivates a worker.")
    event = worker.set_status(status)
    if event is not None:
        add_event(session, event, SOURCE)
        await session.commit()
    return worker


async def erase_worker(session: AsyncSession, worker_id: uuid.UUID, user: CurrentUser) -> None:
    """GDPR erasure: personal data and skills go, earlier events about the person are purged
    from the outbox, and a tombstone tells every consumer to forget them."""
    worker = await read_worker(session, worker_id, user)
    if not (is_self(worker, user) or user.has_any(*STAFF)):
        raise NotAllowed("Only the worker themself, an admin or the HRIS may erase a profile.")
    tombstone = worker.erase()
    await session.execute(sa.delete(SkillEvidence).where(SkillEvidence.worker_id == worker.id))
    await session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.topic == tombstone.topic, OutboxMessage.key == str(worker.id)
        )
    )
    add_event(session, tombstone, SOURCE)
    await session.commit()


async def list_workers(
    session: AsyncSession,
    user: CurrentUser,
    *,
    org_unit: str | None,
    skill_id: str | None,
    min_level: int,
    work_arrangement: str | None,
    status: str | None,
    available_on: date | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Worker], str | None]:
    if not user.has_any("manager", *STAFF):
        raise NotAllowed("Listing workers needs the manager, admin or service role.")
    query = sa.select(Worker).where(Worker.status != "erased")
    if status:
        query = query.where(Worker.status == status)
    if org_unit:
        query = query.where(Worker.org_unit == org_unit)
    if work_arrangement:
        query = query.where(Worker.work_arrangement == work_arrangement)
    if skill_id:
        query = query.where(
            Worker.id.in_(
                sa.select(WorkerSkillRow.worker_id).where(
                    WorkerSkillRow.skill_id == skill_id, WorkerSkillRow.level >= min_level
                )
            )
        )
    if available_on is None:
        return await paginate(
            session,
            query,
            [Worker.created_at, Worker.id],
            [parse_datetime, uuid.UUID],
            limit,
            cursor,
        )
    # Availability windows are JSON: filter a page at a time in Python until it is full.
    kept: list[Worker] = []
    next_cursor = cursor
    while len(kept) < limit:
        page, next_cursor = await paginate(
            session,
            query,
            [Worker.created_at, Worker.id],
            [parse_datetime, uuid.UUID],
            limit,
            next_cursor,
        )
        kept += [w for w in page if available(w, available_on)]
        if next_cursor is None:
            break
    return kept[:limit], next_cursor


def available(worker: Worker, day: date) -> bool:
    """No windows means always; a blackout always wins."""
    iso = day.isoformat()
    inside = lambda r: r["start_date"] <= iso <= r["end_date"]  # noqa: E731
    if any(inside(r) for r in worker.blackouts):
        return False
    return not worker.availability or any(inside(r) for r in worker.availability)


async def bulk_upsert_workers(
    session: AsyncSession, labels: LabelCache, lines: list[str], user: CurrentUser
) -> BulkResult:
    """HRIS feed: one worker per NDJSON line, upserted by external_id. Each line applies in
    its own savepoint, so a bad line is reported and the others still apply."""
    results: list[BulkLineResult] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        external_id = None
        try:
            raw = json.loads(line)
            external_id = raw.get("external_id") if isinstance(raw, dict) else None
            data = WorkerCreate.model_validate(raw)
            if not data.external_id:
                raise DomainError(
                    "external_id is required in a bulk upsert",
                    errors=[{"loc": ["external_id"], "msg": "required", "type": "missing"}],
                )
            async with session.begin_nested():
                status, worker_id = await _upsert_one(session, labels, data, user)
            results.append(
                BulkLineResult(
                    line=number, external_id=data.external_id, status=status, id=worker_id
                )
            )
        except json.JSONDecodeError as exc:
            results.append(
                BulkLineResult(
                    line=number,
                    status="error",
                    errors=[{"loc": [], "msg": f"not JSON: {exc.msg}", "type": "json"}],
                )
            )
        except ValidationError as exc:
            results.append(
                BulkLineResult(
                    line=number,
                    external_id=external_id,
                    status="error",
                    errors=[
                        {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
                        for e in exc.errors()
                    ],
                )
            )
        except DomainError as exc:
            results.append(
                BulkLineResult(
                    line=number,
                    external_id=external_id,
                    status="error",
                    errors=exc.errors or [{"loc": [], "msg": exc.detail, "type": exc.slug}],
                )
            )
    await session.commit()
    counts = {
        s: sum(r.status == s for r in results) for s in ("created", "updated", "unchanged", "error")
    }
    return BulkResult(
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        failed=counts["error"],
        results=results,
    )


async def _upsert_one(
    session: AsyncSession, labels: LabelCache, data: WorkerCreate, user: CurrentUser
) -> tuple[str, uuid.UUID]:
    worker = await session.scalar(sa.select(Worker).where(Worker.external_id == data.external_id))
    if worker is None:
        worker = await _new_worker(session, labels, data, user)
        await session.flush()
        return "created", worker.id
    changes = _plain(data, {"skills"})
    aspirations = await _aspirations(session, labels, data)
    if aspirations is not None:
        changes["aspirations"] = aspirations
    skills = await _claims_to_skills(session, labels, data.skills, user, worker)
    same_skills = sorted((s.skill_id, s.level, s.source) for s in skills) == sorted(
        (r.skill_id, r.level, r.source) for r in worker.skills
    )
    event = worker.update(changes)
    if not same_skills:
        event = worker.replace_skills(skills)
    if event is None:
        return "unchanged", worker.id
    add_event(session, event, SOURCE)
    await session.flush()
    return "updated", worker.id


async def snapshot_workers(session: AsyncSession) -> int:
    count = 0
    for worker in await session.scalars(sa.select(Worker).order_by(Worker.created_at)):
        add_event(session, worker.current_event(), SOURCE)
        count += 1
    return count
