"""The benchmark's market generator: the same market for the same seed, the promised shapes
(skewed skills, scarce skills held by a few busy experts, most tasks with candidates), and an
index built from it that still agrees with the one-pair evaluation at a size where common
skills are read from dense arrays."""

from collections import Counter
from datetime import timedelta

import numpy as np
import pytest

from services.matching.index import MatchIndex
from services.matching.market import (
    QUARTER_START,
    QUARTER_WEEKS,
    SIZES,
    default_taxonomy,
    generate,
    onet_folder,
    parse_size,
    synthetic_taxonomy,
)
from services.matching.scoring import NO_LOAD, evaluate

TAXONOMY = synthetic_taxonomy()


def indexed(market) -> MatchIndex:
    index = MatchIndex(market.taxonomy.related)
    for task in market.tasks:
        index.upsert_task(task)
    for worker in market.workers:
        index.upsert_worker(worker, market.loads.get(worker.id, NO_LOAD))
    return index


def test_a_seed_gives_the_same_market_and_another_seed_another() -> None:
    first, again = generate(400, 40, 7, TAXONOMY), generate(400, 40, 7, TAXONOMY)
    assert (first.workers, first.loads, first.tasks, first.scarce) == (
        again.workers,
        again.loads,
        again.tasks,
        again.scarce,
    )
    assert generate(400, 40, 8, TAXONOMY).workers != first.workers


def test_sizes_are_named_or_spelled_out() -> None:
    assert parse_size("50k") == SIZES["50k"] == (50_000, 5_000)
    assert parse_size("500x50") == (500, 50)
    with pytest.raises(ValueError):
        parse_size("big")


def test_workers_and_tasks_have_the_promised_shapes() -> None:
    market = generate(2_000, 200, 1, TAXONOMY)
    quarter_end = QUARTER_START + timedelta(weeks=QUARTER_WEEKS)
    assert len(market.workers) == 2_000 and len(market.tasks) == 200
    for worker in market.workers:
        assert 3 <= len(worker.skills) <= 12
        assert set(worker.skills.values()) <= {1, 2, 3, 4, 5}
        assert 2 <= worker.weekly_hours <= 20
        assert all(2 <= target <= 5 for target in worker.aspirations.values())
    assert sum(bool(w.aspirations) for w in market.workers) > 1_000
    assert 200 < sum(bool(w.blackouts or w.availability) for w in market.workers) < 600
    assert 300 < len(market.loads) < 700
    for task in market.tasks:
        musts = [s for s in task.skills if s.required]
        assert 3 <= len(task.skills) <= 8 and 1 <= len(musts) <= 3
        assert len({s.skill_id for s in task.skills}) == len(task.skills)
        assert 1 <= task.seats <= 3 and 0 <= task.learning_seats <= task.seats
        assert QUARTER_START <= task.start_date <= task.end_date < quarter_end
    assert sum(t.learning_seats > 0 for t in market.tasks) > 20


def test_skill_popularity_is_skewed() -> None:
    market = generate(2_000, 200, 1, TAXONOMY)
    holders = sorted(Counter(s for w in market.workers for s in w.skills).values())
    assert holders[-1] > 50 * holders[len(holders) // 2]


def test_scarce_skills_are_held_by_a_few_experts_who_take_one_assignment_at_a_time() -> None:
    market = generate(2_000, 200, 1, TAXONOMY)
    assert len(market.scarce) == 200 // 50
    for skill in market.scarce:
        experts = [w for w in market.workers if skill in w.skills]
        assert 2 <= len(experts) <= 3
        assert all(w.max_concurrent == 1 for w in experts)
        needing = [
            t for t in market.tasks if any(s.required and s.skill_id == skill for s in t.skills)
        ]
        assert len(needing) >= 2


def test_most_tasks_have_candidates() -> None:
    market = generate(2_000, 200, 1, TAXONOMY)
    index = indexed(market)
    with_candidates = sum(len(index.eligible(task)[0]) > 0 for task in market.tasks)
    assert with_candidates >= 0.7 * len(market.tasks)


def test_the_index_agrees_with_the_one_pair_evaluation_on_a_generated_market() -> None:
    market = generate(1_500, 12, 4, TAXONOMY)
    index = indexed(market)
    for task in market.tasks:
        found = index.task_candidates(task)
        scores = dict(zip(index.worker_ids(found.workers), found.scores.tolist(), strict=True))
        for worker in market.workers:
            verdict = evaluate(task, worker, index.taxonomy, market.loads.get(worker.id, NO_LOAD))
            assert (worker.id in scores) == verdict.eligible, (task.id, worker.id)
            if verdict.eligible:
                assert round(scores[worker.id], 4) == verdict.score
    assert any(p._dense is not None for p in index.skills.values())


@pytest.mark.parametrize("tasks_first", [True, False])
def test_an_index_built_in_bulk_is_the_index_built_worker_by_worker(tasks_first: bool) -> None:
    market = generate(1_500, 40, 6, TAXONOMY)
    one_by_one, bulk = MatchIndex(market.taxonomy.related), MatchIndex(market.taxonomy.related)
    for task in market.tasks:
        one_by_one.upsert_task(task)
        if tasks_first:
            bulk.upsert_task(task)
    for worker in market.workers:
        one_by_one.upsert_worker(worker, market.loads.get(worker.id, NO_LOAD))
    bulk.add_workers(market.workers[:700], market.loads)
    bulk.add_workers(market.workers[600:], market.loads)  # some again: updated one by one
    for task in market.tasks if not tasks_first else ():
        bulk.upsert_task(task)
    assert bulk.position == one_by_one.position and bulk.records == one_by_one.records
    for name in ("skills", "aspiring"):
        ours, theirs = getattr(bulk, name), getattr(one_by_one, name)
        assert ours.keys() == theirs.keys()
        for skill in ours:
            assert all(map(np.array_equal, ours[skill].arrays(), theirs[skill].arrays()))
    for array in ("active", "open_hours", "preference", "free_hours", "assigned", "dip_from"):
        assert np.array_equal(getattr(bulk, array), getattr(one_by_one, array)), array

    def places(index: MatchIndex) -> list[tuple[str | None, str | None]]:
        names = {code: name for name, code in index._places.items()}
        return [
            (names[u], names[p])
            for u, p in zip(index.org_unit.tolist(), index.location.tolist(), strict=True)
        ]

    assert places(bulk) == places(one_by_one)
    for task in market.tasks:
        a, b = bulk.task_candidates(task), one_by_one.task_candidates(task)
        assert np.array_equal(a.workers, b.workers) and np.array_equal(a.scores, b.scores)


def test_recommendations_leave_out_no_task_the_worker_may_take() -> None:
    market = generate(1_500, 150, 5, TAXONOMY)
    index = indexed(market)
    for worker in market.workers[::10]:
        load = market.loads.get(worker.id, NO_LOAD)
        offered = {task.id for task in index.open_tasks_for(worker.id)}
        takeable = {
            task.id
            for task in market.tasks
            if evaluate(task, worker, index.taxonomy, load).eligible
        }
        assert takeable <= offered, worker.id


@pytest.mark.skipif(not (onet_folder() / "Skills.txt").is_file(), reason="no O*NET data here")
def test_the_default_taxonomy_is_onet_when_its_files_are_there() -> None:
    taxonomy = default_taxonomy()
    assert taxonomy.source == "onet"
    assert len(taxonomy.occupations) > 800
    programming = "onet:element:2.B.3.e"
    assert taxonomy.labels[programming] == "Programming"
    market = generate(300, 30, 1)
    assert all(s.startswith("onet:") for w in market.workers for s in w.skills)
    assert np.mean([len(t.skills) for t in market.tasks]) > 4
