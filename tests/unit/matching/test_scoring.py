"""Eligibility and skill fit of one worker for one task, checked by hand."""

from services.matching.scoring import fit

TASK = [
    {"skill_id": "python", "min_level": 3, "weight": 3.0, "required": True},
    {"skill_id": "sql", "min_level": 2, "weight": 1.0, "required": False},
]


def test_meeting_every_skill_scores_one() -> None:
    result = fit(
        TASK,
        4,
        "owner",
        "w1",
        [{"skill_id": "python", "level": 3}, {"skill_id": "sql", "level": 5}],
        8,
    )
    assert result.eligible and result.score == 1.0 and result.gaps == []


def test_a_missing_nice_to_have_costs_its_share_of_the_weight() -> None:
    result = fit(TASK, 4, "owner", "w1", [{"skill_id": "python", "level": 4}], 8)
    assert result.eligible and result.score == 0.75
    assert [gap.skill_id for gap in result.gaps] == ["sql"]


def test_a_must_have_below_level_excludes_and_says_which() -> None:
    result = fit(TASK, 4, "owner", "w1", [{"skill_id": "python", "level": 2}], 8)
    assert not result.eligible and "python" in (result.excluded_by or "")


def test_too_few_hours_excludes() -> None:
    result = fit(TASK, 10, "owner", "w1", [{"skill_id": "python", "level": 5}], 8)
    assert not result.eligible and "10" in (result.excluded_by or "")


def test_no_one_is_a_candidate_for_their_own_task() -> None:
    result = fit(TASK, 4, "w1", "w1", [{"skill_id": "python", "level": 5}], 8)
    assert not result.eligible and result.excluded_by == "owns the task"
