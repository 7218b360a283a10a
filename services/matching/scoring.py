"""Pure eligibility and skill-fit scoring of one worker for one task: no database, no clock.

The first cut (issue 2): must-have skills at level and weekly hours are the hard constraints;
the score is the importance-weighted share of the task's skills the worker meets at level.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SkillMatch:
    skill_id: str
    min_level: int
    worker_level: int | None
    required: bool


@dataclass(frozen=True)
class Fit:
    eligible: bool
    score: float
    matched: list[SkillMatch] = field(default_factory=list)
    gaps: list[SkillMatch] = field(default_factory=list)
    excluded_by: str | None = None


def fit(
    task_skills: list[dict[str, Any]],
    task_hours_per_week: float,
    task_owner_id: str,
    worker_id: str,
    worker_skills: list[dict[str, Any]],
    worker_weekly_hours: float,
) -> Fit:
    levels = {s["skill_id"]: int(s["level"]) for s in worker_skills}
    matched: list[SkillMatch] = []
    gaps: list[SkillMatch] = []
    total_weight = 0.0
    earned = 0.0
    for skill in task_skills:
        weight = float(skill.get("weight", 1.0))
        total_weight += weight
        level = levels.get(skill["skill_id"])
        match = SkillMatch(
            skill["skill_id"], int(skill["min_level"]), level, bool(skill.get("required", True))
        )
        if level is not None and level >= match.min_level:
            matched.append(match)
            earned += weight
        else:
            gaps.append(match)
    score = round(earned / total_weight, 4) if total_weight else 0.0
    # No one staffs their own task.
    if worker_id == task_owner_id:
        return Fit(False, score, matched, gaps, "owns the task")
    missing = [gap.skill_id for gap in gaps if gap.required]
    if missing:
        return Fit(
            False, score, matched, gaps, f"lacks must-have skills at level: {', '.join(missing)}"
        )
    if worker_weekly_hours < task_hours_per_week:
        return Fit(
            False,
            score,
            matched,
            gaps,
            f"gives {worker_weekly_hours:g} h/week, the task needs {task_hours_per_week:g}",
        )
    return Fit(True, score, matched, gaps)
