"""The index finds and scores exactly the workers `scoring.evaluate` accepts, for any small
market Hypothesis can think of, and follows changes to workers, loads and the taxonomy."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.index import MatchIndex
from services.matching.scoring import (
    Load,
    TaskRecord,
    TaskSkill,
    Weights,
    WorkerRecord,
    evaluate,
    week_of,
)

SKILLS = ["python", "sql", "excel", "design", "rust"]
MONDAY = date(2026, 11, 30)


@st.composite
def workers(draw: st.DrawFn, number: int) -> WorkerRecord:
    held = draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=4))
    wants = draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=2))
    away = draw(st.booleans())
    start = MONDAY + timedelta(days=draw(st.integers(0, 30)))
    return WorkerRecord(
        id=f"w{number}",
        skills=held,
        weekly_hours=draw(st.sampled_from([0, 4, 8, 16, 40])),
        status=draw(st.sampled_from(["active", "active", "inactive"])),
        org_unit=draw(st.sampled_from(["eng", "ops", None])),
        location=draw(st.sampled_from(["Paris", "Oslo", None])),
        remote_preference=draw(st.sampled_from(["any", "remote", "onsite", "hybrid"])),
        max_concurrent=draw(st.integers(1, 3)),
        aspirations=wants,
        task_kinds=tuple(draw(st.lists(st.sampled_from(["task", "gig", "project"]), max_size=2))),
        blackouts=((start, start + timedelta(days=draw(st.integers(0, 9)))),) if away else (),
    )


@st.composite
def tasks(draw: st.DrawFn) -> TaskRecord:
    chosen = draw(st.lists(st.sampled_from(SKILLS), min_size=1, max_size=3, unique=True))
    start = MONDAY + timedelta(days=draw(st.integers(0, 20)))
    seats = draw(st.integers(1, 3))
    return TaskRecord(
        id="t1",
        owner_id=draw(st.sampled_from(["w0", "boss"])),
        skills=tuple(
            TaskSkill(
                s, draw(st.integers(1, 5)), draw(st.sampled_from([1.0, 2.5])), draw(st.booleans())
            )
            for s in chosen
        ),
        hours_per_week=draw(st.sampled_from([2, 8, 16])),
        start_date=start,
        end_date=start + timedelta(days=draw(st.integers(0, 40))),
        seats=seats,
        learning_seats=draw(st.integers(0, seats)),
        kind=draw(st.sampled_from(["task", "gig", "project"])),
        org_unit="eng",
        visibility=draw(st.sampled_from(["company", "org_unit"])),
        remote=draw(st.booleans()),
        location=draw(st.sampled_from(["Paris", None])),
        learning_skills=tuple(draw(st.lists(st.sampled_from(SKILLS), max_size=2))),
    )


@st.composite
def loads(draw: st.DrawFn) -> Load:
    week = week_of(MONDAY) + draw(st.integers(0, 5))
    return Load(
        hours={week: draw(st.sampled_from([0, 4, 30]))}, assignments={week: draw(st.integers(0, 3))}
    )


TAXONOMY = {"rust": {"python"}, "design": {"excel"}}


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_the_index_agrees_with_the_one_pair_evaluation(data: st.DataObject) -> None:
    market = [data.draw(workers(n)) for n in range(data.draw(st.integers(1, 12)))]
    task = data.draw(tasks())
    weights = Weights(*data.draw(st.tuples(*[st.sampled_from([0.0, 0.3, 1.0])] * 3)), 0.2)
    index = MatchIndex(TAXONOMY)
    index.upsert_task(task)
    worker_loads = {w.id: data.draw(loads()) for w in market}
    for worker in market:
        index.upsert_worker(worker, worker_loads[worker.id])
    found = index.task_candidates(task, weights)
    by_id = dict(
        zip(
            index.worker_ids(found.workers),
            zip(found.scores, found.stretch, strict=True),
            strict=True,
        )
    )
    for worker in market:
        verdict = evaluate(task, worker, TAXONOMY, worker_loads[worker.id], weights)
        assert (worker.id in by_id) == verdict.eligible, verdict.excluded_by
        if verdict.eligible:
            score, stretch = by_id[worker.id]
            assert round(float(score), 4) == verdict.score
            assert bool(stretch) == verdict.learning_seat


def test_a_changed_or_erased_worker_is_found_by_what_they_hold_now() -> None:
    task = TaskRecord(
        "t1", "boss", (TaskSkill("python", 3),), 4, MONDAY, MONDAY + timedelta(days=6)
    )
    index = MatchIndex()
    index.upsert_task(task)
    index.upsert_worker(WorkerRecord("w1", {"python": 4}, 10))
    index.upsert_worker(WorkerRecord("w2", {"python": 2}, 10))
    assert index.worker_ids(index.task_candidates(task).workers) == ["w1"]
    index.upsert_worker(WorkerRecord("w2", {"python": 5}, 10))
    index.upsert_worker(WorkerRecord("w1", {"sql": 4}, 10))
    assert index.worker_ids(index.task_candidates(task).workers) == ["w2"]
    index.remove_worker("w2")
    assert index.worker_ids(index.task_candidates(task).workers) == []


def test_committed_hours_take_a_worker_out_until_they_are_released() -> None:
    task = TaskRecord(
        "t1", "boss", (TaskSkill("python", 3),), 8, MONDAY, MONDAY + timedelta(days=13)
    )
    index = MatchIndex()
    index.upsert_task(task)
    index.upsert_worker(WorkerRecord("w1", {"python": 4}, 10))
    index.set_load("w1", Load(hours={week_of(MONDAY) + 1: 4}, assignments={}))
    assert len(index.task_candidates(task).workers) == 0
    index.set_load("w1", Load())
    assert index.worker_ids(index.task_candidates(task).workers) == ["w1"]
