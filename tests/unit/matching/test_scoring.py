"""One worker against one task, checked by hand: the worked example of docs/matching.md, and
each hard constraint naming itself when it excludes someone ("why not me")."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from services.matching.scoring import (
    Load,
    TaskRecord,
    TaskSkill,
    Weights,
    WorkerRecord,
    evaluate,
    week_of,
)

MONDAY = date(2027, 1, 4)
DASHBOARD = TaskRecord(
    id="t-dashboard",
    owner_id="mgr-1",
    title="Sales dashboard",
    kind="project",
    skills=(
        TaskSkill("python", min_level=3, weight=2),
        TaskSkill("sql", min_level=2, weight=1),
        TaskSkill("tableau", min_level=2, weight=1, required=False),
    ),
    hours_per_week=6,
    start_date=MONDAY,
    end_date=MONDAY + timedelta(days=11),
    seats=2,
    learning_seats=1,
)
ADA = WorkerRecord(
    id="w-ada",
    skills={"python": 4, "sql": 2, "power-bi": 3},
    weekly_hours=10,
    aspirations={"tableau": 3},
    task_kinds=("project",),
)
TAXONOMY = {"tableau": {"power-bi"}}


def test_the_worked_example_of_the_matching_doc() -> None:
    verdict = evaluate(DASHBOARD, ADA, TAXONOMY)
    assert verdict.eligible and verdict.excluded_by is None
    # (2*1 + 1*1 + 1*0.5) / 4: tableau earns half through the related power-bi.
    assert verdict.components == {
        "skill_fit": 0.875,
        "learning": 0.25,
        "preference": 1.0,
        "availability": 1.0,
    }
    # 0.55*0.875 + 0.2*0.25 + 0.1*1 + 0.15*1 = 0.78125
    assert verdict.score == pytest.approx(0.7812, abs=1e-4)
    assert [g.skill_id for g in verdict.gaps] == ["tableau"]
    assert verdict.gaps[0].via == "power-bi"
    assert verdict.learns == ["tableau"]
    assert verdict.hours == {"per_week": 6, "min_free_per_week": 10, "weeks": 2}


def test_weights_change_the_ranking_but_not_the_components() -> None:
    learning_first = Weights(skill_fit=0.1, learning=1, preference=0, availability=0)
    verdict = evaluate(DASHBOARD, ADA, TAXONOMY, weights=learning_first)
    assert verdict.components["skill_fit"] == 0.875
    assert verdict.score == pytest.approx((0.1 * 0.875 + 0.25) / 1.1, abs=1e-4)


@pytest.mark.parametrize(
    ("task", "worker", "load", "reason"),
    [
        (replace(DASHBOARD, status="filled"), ADA, Load(), "the task is filled"),
        (DASHBOARD, replace(ADA, status="inactive"), Load(), "the worker is inactive"),
        (replace(DASHBOARD, owner_id="w-ada"), ADA, Load(), "owns the task"),
        (
            replace(DASHBOARD, visibility="org_unit", org_unit="sales"),
            replace(ADA, org_unit="eng"),
            Load(),
            "open only to org unit sales",
        ),
        (
            replace(DASHBOARD, remote=False, location="Paris"),
            replace(ADA, location="Oslo"),
            Load(),
            "on site in Paris",
        ),
        (DASHBOARD, replace(ADA, skills={"python": 4}), Load(), "sql (needs 2, has none)"),
        (DASHBOARD, replace(ADA, weekly_hours=4), Load(), "has 4 h free"),
        (DASHBOARD, ADA, Load(hours={week_of(MONDAY) + 1: 5}), "has 5 h free in 2027-W02"),
        (
            DASHBOARD,
            replace(ADA, max_concurrent=1),
            Load(assignments={week_of(MONDAY): 1}),
            "concurrent",
        ),
    ],
)
def test_each_hard_constraint_says_that_it_excluded_the_worker(
    task: TaskRecord, worker: WorkerRecord, load: Load, reason: str
) -> None:
    verdict = evaluate(task, worker, TAXONOMY, load)
    assert not verdict.eligible
    assert verdict.excluded_by is not None and reason in verdict.excluded_by


def test_one_level_below_a_must_have_qualifies_only_for_a_learning_seat() -> None:
    stretching = replace(ADA, skills={"python": 2, "sql": 2})
    verdict = evaluate(DASHBOARD, stretching, TAXONOMY)
    assert verdict.eligible and verdict.learning_seat
    without_learning_seats = evaluate(replace(DASHBOARD, learning_seats=0), stretching, TAXONOMY)
    assert not without_learning_seats.eligible
    two_below = evaluate(DASHBOARD, replace(ADA, skills={"python": 1, "sql": 2}), TAXONOMY)
    assert not two_below.eligible


def test_a_week_away_shrinks_that_weeks_hours_and_the_availability_share() -> None:
    # Away Wednesday to Friday of the first week: 2 of 5 weekdays left, so 4 of 10 hours.
    away = replace(ADA, blackouts=((MONDAY + timedelta(days=2), MONDAY + timedelta(days=4)),))
    verdict = evaluate(DASHBOARD, away, TAXONOMY)
    assert "has 4 h free in 2027-W01" in (verdict.excluded_by or "")
    assert verdict.components["availability"] == pytest.approx(7 / 10, abs=1e-4)
    small = evaluate(replace(DASHBOARD, hours_per_week=4), away, TAXONOMY)
    assert small.eligible


def test_preferences_count_kind_and_arrangement_half_each() -> None:
    gig_on_site = replace(DASHBOARD, kind="gig", remote=False)
    assert (
        evaluate(gig_on_site, replace(ADA, remote_preference="remote"), TAXONOMY).components[
            "preference"
        ]
        == 0.0
    )
    assert (
        evaluate(gig_on_site, replace(ADA, task_kinds=()), TAXONOMY).components["preference"]
        == 0.75
    )
