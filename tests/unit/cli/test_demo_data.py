"""The demo generator is deterministic and only produces what the API accepts."""

from datetime import date

import pytest

from taskforce.demo import demo_skills, generate, skill_waves

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def data():
    return generate(seed=7, workers=300, tasks=200, today=TODAY)


def test_the_same_seed_and_day_give_the_same_data(data) -> None:
    assert generate(seed=7, workers=300, tasks=200, today=TODAY) == data


def test_another_seed_gives_other_data(data) -> None:
    other = generate(seed=8, workers=300, tasks=200, today=TODAY)
    assert other.workers != data.workers
    assert other.tasks != data.tasks


def test_it_makes_the_requested_numbers(data) -> None:
    assert len(data.workers) == 300
    assert len(data.tasks) == 200
    assert 40 <= len(data.skills) <= 60


def test_broader_skills_are_defined_before_the_skills_that_name_them() -> None:
    seen: set[str] = set()
    for skill in demo_skills():
        assert skill["id"].startswith("taskforce:")
        assert set(skill["broader"]) <= seen, skill["id"]
        seen.add(skill["id"])
    assert len(seen) == len(demo_skills())


def test_skill_waves_post_each_parent_in_an_earlier_wave() -> None:
    wave_of = {s["id"]: n for n, wave in enumerate(skill_waves(demo_skills())) for s in wave}
    for skill in demo_skills():
        assert all(wave_of[parent] < wave_of[skill["id"]] for parent in skill["broader"])


def test_every_referenced_skill_exists_in_the_taxonomy(data) -> None:
    known = {skill["id"] for skill in data.skills}
    for worker in data.workers:
        assert {s["skill_id"] for s in worker["skills"]} <= known
        assert {a["skill_id"] for a in worker["aspirations"]} <= known
    for task in data.tasks:
        assert {s["skill_id"] for s in task["required_skills"]} <= known


def test_workers_follow_the_profile_rules(data) -> None:
    assert len({w["external_id"] for w in data.workers}) == len(data.workers)
    assert len({w["email"] for w in data.workers}) == len(data.workers)
    for worker in data.workers:
        skill_ids = [s["skill_id"] for s in worker["skills"]]
        assert 2 <= len(skill_ids) <= 6
        assert len(set(skill_ids)) == len(skill_ids)
        assert all(1 <= s["level"] <= 5 for s in worker["skills"])
        assert len(worker["aspirations"]) <= 2
        assert not {a["skill_id"] for a in worker["aspirations"]} & set(skill_ids)
        assert worker["weekly_hours"] in (4, 8, 12, 16)


def test_tasks_follow_the_catalog_rules(data) -> None:
    for task in data.tasks:
        skills = task["required_skills"]
        assert 1 <= len(skills) <= 3
        assert any(s["required"] for s in skills)
        assert len({s["skill_id"] for s in skills}) == len(skills)
        assert all(1 <= s["min_level"] <= 4 and 0 < s["weight"] <= 10 for s in skills)
        start, end = date.fromisoformat(task["start_date"]), date.fromisoformat(task["end_date"])
        assert TODAY < start <= end
        assert (end - TODAY).days <= 12 * 7
        assert 2 <= task["hours_per_week"] <= 12
        assert 1 <= task["seats"] <= 3
        assert 0 <= task["learning_seats"] <= task["seats"]
        assert task["remote"] or task["location"]


def test_tasks_and_reports_belong_to_a_manager_of_their_own_unit(data) -> None:
    unit_of = {w["external_id"]: w["org_unit"] for w in data.workers}
    managers = {w["external_id"] for w in data.workers if w["manager_id"] is None}
    for task in data.tasks:
        assert task["owner_id"] in managers
        assert unit_of[task["owner_id"]] == task["org_unit"]
    for worker in data.workers:
        if worker["manager_id"] is not None:
            assert worker["manager_id"] in managers
            assert unit_of[worker["manager_id"]] == worker["org_unit"]


def test_the_bodies_pass_the_services_own_schemas(data) -> None:
    from services.catalog.schemas import TaskCreate
    from services.profiles.schemas import SkillCreate, WorkerCreate

    for skill in data.skills:
        SkillCreate.model_validate(skill)
    for worker in data.workers:
        WorkerCreate.model_validate(worker)
    for task in data.tasks:
        TaskCreate.model_validate(task)


def test_too_few_workers_to_own_the_tasks_is_refused() -> None:
    with pytest.raises(ValueError, match="managers"):
        generate(workers=3, tasks=1, today=TODAY)
