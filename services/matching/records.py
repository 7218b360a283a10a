"""Read-model rows turned into the plain records that scoring, the index and the solver use,
so that those stay pure."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from services.matching.models import SkillView, TaskView, WorkerView
from services.matching.scoring import TaskRecord, TaskSkill, WorkerRecord


def task_record(row: TaskView) -> TaskRecord:
    return TaskRecord(
        id=str(row.id),
        owner_id=row.owner_id,
        skills=tuple(
            TaskSkill(
                s["skill_id"], int(s["min_level"]), float(s.get("weight", 1.0)), s["required"]
            )
            for s in row.required_skills
        ),
        hours_per_week=row.hours_per_week,
        start_date=row.start_date,
        end_date=row.end_date,
        seats=row.seats,
        learning_seats=row.learning_seats,
        status=row.status,
        kind=row.kind,
        org_unit=row.org_unit,
        visibility=row.visibility,
        remote=row.remote,
        location=row.location,
        learning_skills=tuple(row.learning_skills or ()),
        title=row.title,
    )


def _windows(ranges: list[dict[str, str]]) -> tuple[tuple[date, date], ...]:
    return tuple(
        (date.fromisoformat(r["start_date"]), date.fromisoformat(r["end_date"])) for r in ranges
    )


def worker_record(row: WorkerView) -> WorkerRecord:
    return WorkerRecord(
        id=str(row.id),
        skills={s["skill_id"]: int(s["level"]) for s in row.skills},
        weekly_hours=row.weekly_hours,
        status=row.status,
        org_unit=row.org_unit,
        location=row.location,
        remote_preference=row.remote_preference,
        max_concurrent=row.max_concurrent_assignments,
        aspirations={a["skill_id"]: int(a.get("target_level", 3)) for a in row.aspirations},
        task_kinds=tuple(row.task_kinds or ()),
        availability=_windows(row.availability or []),
        blackouts=_windows(row.blackouts or []),
        manager_id=row.manager_id,
        name=row.name,
    )


def taxonomy_of(skills: Iterable[SkillView]) -> dict[str, set[str]]:
    """Skill id → the skills that earn partial credit for it: its broader and related skills,
    and those that name it as related."""
    graph: dict[str, set[str]] = defaultdict(set)
    for skill in skills:
        graph[skill.id].update(skill.broader)
        graph[skill.id].update(skill.related)
        for other in skill.related:
            graph[other].add(skill.id)
    return dict(graph)
