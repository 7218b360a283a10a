"""A worker's rules without a database: levels move only on endorsement, verification,
erasure, and every change announced with a newer version."""

import uuid
from datetime import date

import pytest

from services.kernel.contracts.profiles import WorkerErased, WorkerSkill
from services.kernel.web import StaleVersion, check_version
from services.profiles.models import Worker, WorkerErasedAlready, WorkerSkillNotFound


def a_worker(**skills: int) -> Worker:
    worker = Worker(
        id=uuid.uuid4(),
        version=0,
        name="Ada",
        email="ada@example.com",
        status="active",
        weekly_hours=8,
        work_arrangement="employee",
        remote_preference="any",
        max_concurrent_assignments=3,
        availability=[],
        blackouts=[],
        aspirations=[],
        preferences={},
        skills=[],
        external_id="HR-1",
        manager_id="boss",
    )
    worker.replace_skills(
        [WorkerSkill(skill_id=k, level=v, source="self") for k, v in skills.items()]
    )
    return worker


def test_completed_work_moves_a_level_only_where_it_was_endorsed() -> None:
    worker = a_worker(python=2, sql=3)
    event = worker.record_assignment([("python", 4), ("sql", None)], date(2026, 11, 20))
    assert event is not None and event.version == 2
    levels = {s.skill_id: (s.level, s.source) for s in event.skills}
    assert levels == {"python": (4, "earned"), "sql": (3, "self")}
    assert all(s.last_used_at and s.last_used_at.date() == date(2026, 11, 20) for s in event.skills)


def test_unendorsed_evidence_of_a_skill_not_held_adds_nothing() -> None:
    worker = a_worker(python=2)
    assert worker.record_assignment([("welding", None)], date(2026, 11, 20)) is None
    assert [s.skill_id for s in worker.skills] == ["python"] and worker.version == 1


def test_older_evidence_does_not_move_last_use_back() -> None:
    worker = a_worker(python=2)
    worker.record_assignment([("python", None)], date(2026, 11, 20))
    assert worker.record_assignment([("python", None)], date(2026, 1, 1)) is None
    assert worker.skills[0].last_used_at.date() == date(2026, 11, 20)


def test_verification_makes_a_skill_the_managers_word() -> None:
    worker = a_worker(python=2)
    event = worker.verify_skill("python", 3, by="boss")
    skill = event.skills[0]
    assert (skill.level, skill.source) == (3, "manager") and skill.verified_at is not None
    with pytest.raises(WorkerSkillNotFound):
        worker.verify_skill("welding", None, by="boss")


def test_erasure_leaves_a_tombstone_and_nothing_personal() -> None:
    worker = a_worker(python=2)
    tombstone = worker.erase()
    assert tombstone == WorkerErased(id=worker.id, version=2)
    assert (worker.name, worker.email, worker.external_id, worker.manager_id) == (
        "",
        None,
        None,
        None,
    )
    assert worker.skills == [] and worker.status == "erased"
    with pytest.raises(WorkerErasedAlready):
        worker.update({"weekly_hours": 4})
    assert worker.current_event() == tombstone


def test_an_update_that_changes_nothing_announces_nothing() -> None:
    worker = a_worker()
    assert worker.update({"weekly_hours": 8}) is None and worker.version == 1
    assert worker.update({"weekly_hours": 10}).version == 2


@pytest.mark.parametrize(
    "if_match, ok",
    [(None, True), ('"3"', True), ('W/"3"', True), ('"2", "3"', True), ("*", True), ('"2"', False)],
)
def test_if_match_accepts_the_current_version_only(if_match: str | None, ok: bool) -> None:
    if ok:
        check_version(3, if_match)
    else:
        with pytest.raises(StaleVersion):
            check_version(3, if_match)
