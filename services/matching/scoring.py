"""Pure eligibility, score and explanation of one worker for one task: no database, no clock.

The hard constraints decide whether a worker may be proposed at all; the four score
components (each in [0, 1]) rank those who may. `docs/matching.md` gives the formulas and a
worked example; `index.py` computes the same numbers for many workers at once.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# Partial credit for a nice-to-have the worker lacks but holds a related or broader skill of.
NEIGHBOUR_CREDIT = 0.5
# Weekdays per ISO week: a week's capacity shrinks with the weekdays the worker is away.
WORKDAYS = 5
_FIRST_MONDAY = date(1970, 1, 5)


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each score component counts in a run (normalised by their sum)."""

    skill_fit: float = 0.55
    learning: float = 0.2
    preference: float = 0.1
    availability: float = 0.15

    def combine(self, skill_fit: Any, learning: Any, preference: Any, avail: Any) -> Any:
        """Numbers or NumPy arrays of them."""
        total = self.skill_fit + self.learning + self.preference + self.availability
        weighted = (
            self.skill_fit * skill_fit
            + self.learning * learning
            + self.preference * preference
            + self.availability * avail
        )
        return weighted / total if total else 0.0


@dataclass(frozen=True, slots=True)
class TaskSkill:
    skill_id: str
    min_level: int
    weight: float = 1.0
    required: bool = True


@dataclass(frozen=True, slots=True)
class TaskRecord:
    id: str
    owner_id: str
    skills: tuple[TaskSkill, ...]
    hours_per_week: float
    start_date: date
    end_date: date
    seats: int = 1
    learning_seats: int = 0
    status: str = "open"
    kind: str = "task"
    org_unit: str | None = None
    visibility: str = "company"
    remote: bool = True
    location: str | None = None
    learning_skills: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    id: str
    skills: Mapping[str, int]
    weekly_hours: float
    status: str = "active"
    org_unit: str | None = None
    location: str | None = None
    remote_preference: str = "any"
    max_concurrent: int = 3
    # Skill id → the level the worker aims for.
    aspirations: Mapping[str, int] = field(default_factory=dict)
    task_kinds: tuple[str, ...] = ()
    # No availability windows means available whenever the weekly hours allow.
    availability: tuple[tuple[date, date], ...] = ()
    blackouts: tuple[tuple[date, date], ...] = ()
    manager_id: str | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Load:
    """What a worker has already committed (the hours ledger), by week number."""

    hours: Mapping[int, float] = field(default_factory=dict)
    assignments: Mapping[int, int] = field(default_factory=dict)


NO_LOAD = Load()


def week_of(day: date) -> int:
    """Weeks counted from a Monday; every date of one ISO week has the same number."""
    return (day - _FIRST_MONDAY).days // 7


def week_start(week: int) -> date:
    return _FIRST_MONDAY + timedelta(weeks=week)


def iso_week_label(week: int) -> str:
    year, number, _ = week_start(week).isocalendar()
    return f"{year}-W{number:02d}"


def task_weeks(task: TaskRecord) -> range:
    return range(week_of(task.start_date), week_of(task.end_date) + 1)


def _covered(day: date, windows: Iterable[tuple[date, date]]) -> bool:
    return any(start <= day <= end for start, end in windows)


def available_on(worker: WorkerRecord, day: date) -> bool:
    if worker.availability and not _covered(day, worker.availability):
        return False
    return not _covered(day, worker.blackouts)


def weekly_capacity(worker: WorkerRecord, week: int) -> float:
    """The worker's hours for one week: their weekly hours, pro rata for the weekdays they are
    available."""
    if not worker.availability and not worker.blackouts:
        return worker.weekly_hours
    monday = week_start(week)
    days = sum(available_on(worker, monday + timedelta(days=d)) for d in range(WORKDAYS))
    return worker.weekly_hours * days / WORKDAYS


def neighbours(taxonomy: Mapping[str, Iterable[str]], skill_id: str) -> Iterable[str]:
    return taxonomy.get(skill_id, ())


@dataclass(frozen=True, slots=True)
class SkillLine:
    skill_id: str
    min_level: int
    worker_level: int | None
    required: bool
    credit: float
    # For partial credit: the related or broader skill the worker holds instead.
    via: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    eligible: bool
    excluded_by: str | None
    score: float
    components: dict[str, float]
    matched: list[SkillLine]
    gaps: list[SkillLine]
    learns: list[str]
    learning_seat: bool
    hours: dict[str, Any]
    dates: dict[str, Any]

    def explanation(self) -> dict[str, Any]:
        """The JSON form stored with proposals and returned by the API."""
        return {
            "score": self.score,
            "components": self.components,
            "matched": [_line(m) for m in self.matched],
            "gaps": [_line(g) for g in self.gaps],
            "learns": self.learns,
            "learning_seat": self.learning_seat,
            "hours": self.hours,
            "dates": self.dates,
        }


def _line(line: SkillLine) -> dict[str, Any]:
    return {
        "skill_id": line.skill_id,
        "min_level": line.min_level,
        "worker_level": line.worker_level,
        "required": line.required,
        "credit": round(line.credit, 4),
        "via": line.via,
    }


def skill_lines(
    task: TaskRecord, worker: WorkerRecord, taxonomy: Mapping[str, Iterable[str]]
) -> tuple[float, list[SkillLine], list[SkillLine]]:
    """Skill fit: the importance-weighted mean credit over the task's skills."""
    matched: list[SkillLine] = []
    gaps: list[SkillLine] = []
    earned = total = 0.0
    for skill in task.skills:
        level = worker.skills.get(skill.skill_id)
        via = None
        if level is not None and level >= skill.min_level:
            credit = 1.0
        elif level is not None:
            credit = level / skill.min_level
        elif not skill.required:
            held = (n for n in neighbours(taxonomy, skill.skill_id) if n in worker.skills)
            via = next(held, None)
            credit = NEIGHBOUR_CREDIT if via else 0.0
        else:
            credit = 0.0
        line = SkillLine(skill.skill_id, skill.min_level, level, skill.required, credit, via)
        (matched if credit == 1.0 else gaps).append(line)
        earned += skill.weight * credit
        total += skill.weight
    return (earned / total if total else 0.0), matched, gaps


def learning_value(task: TaskRecord, worker: WorkerRecord) -> tuple[float, list[str]]:
    """The weighted share of the task's skills (and its named learning skills, weight 1) that
    the worker wants to grow and has not yet reached their target in."""
    weights = {s.skill_id: s.weight for s in task.skills}
    for skill_id in task.learning_skills:
        weights.setdefault(skill_id, 1.0)
    learns = [
        skill_id
        for skill_id in weights
        if skill_id in worker.aspirations
        and worker.skills.get(skill_id, 0) < worker.aspirations[skill_id]
    ]
    total = sum(weights.values())
    return (sum(weights[s] for s in learns) / total if total else 0.0), learns


def preference_fit(task: TaskRecord, worker: WorkerRecord) -> float:
    """Half the kind of work (neutral when the worker named none), half the arrangement."""
    kind = (1.0 if task.kind in worker.task_kinds else 0.0) if worker.task_kinds else 0.5
    wants = worker.remote_preference
    arrangement = 1.0 if wants in ("any", "hybrid") or (wants == "remote") == task.remote else 0.0
    return (kind + arrangement) / 2


def availability_share(task: TaskRecord, worker: WorkerRecord) -> float:
    """The share of the task's weekdays on which the worker is available."""
    if not worker.availability and not worker.blackouts:
        return 1.0
    days = [
        task.start_date + timedelta(days=d)
        for d in range((task.end_date - task.start_date).days + 1)
    ]
    weekdays = [day for day in days if day.weekday() < WORKDAYS] or days
    return sum(available_on(worker, day) for day in weekdays) / len(weekdays)


def excluded_by(
    task: TaskRecord, worker: WorkerRecord, load: Load, gaps: list[SkillLine]
) -> tuple[str | None, bool]:
    """The first hard constraint that rules the worker out (None when none does), and whether
    they qualify only for a learning seat."""
    if task.status != "open":
        return f"the task is {task.status}", False
    if worker.status != "active":
        return f"the worker is {worker.status}", False
    if worker.id == task.owner_id:
        return "owns the task", False
    if task.visibility == "org_unit" and worker.org_unit != task.org_unit:
        return f"the task is open only to org unit {task.org_unit}", False
    if not task.remote and task.location and worker.location != task.location:
        return f"the task is on site in {task.location}", False
    missing, stretch = [], False
    for gap in gaps:
        if not gap.required:
            continue
        if task.learning_seats > 0 and gap.worker_level == gap.min_level - 1:
            stretch = True
            continue
        has = gap.worker_level if gap.worker_level is not None else "none"
        missing.append(f"{gap.skill_id} (needs {gap.min_level}, has {has})")
    if missing:
        return f"lacks must-have skills at level: {', '.join(missing)}", False
    for week in task_weeks(task):
        free = weekly_capacity(worker, week) - load.hours.get(week, 0.0)
        if free < task.hours_per_week:
            return (
                f"has {max(free, 0):g} h free in {iso_week_label(week)}, "
                f"the task needs {task.hours_per_week:g} h/week",
                stretch,
            )
        if load.assignments.get(week, 0) >= worker.max_concurrent:
            return (
                f"already has {worker.max_concurrent} concurrent assignments in "
                f"{iso_week_label(week)}",
                stretch,
            )
    return None, stretch


def evaluate(
    task: TaskRecord,
    worker: WorkerRecord,
    taxonomy: Mapping[str, Iterable[str]] | None = None,
    load: Load = NO_LOAD,
    weights: Weights = Weights(),
) -> Verdict:
    """One worker against one task: eligibility, the score and its explanation."""
    fit, matched, gaps = skill_lines(task, worker, taxonomy or {})
    learning, learns = learning_value(task, worker)
    preference = preference_fit(task, worker)
    availability = availability_share(task, worker)
    reason, stretch = excluded_by(task, worker, load, gaps)
    components = {
        "skill_fit": round(fit, 4),
        "learning": round(learning, 4),
        "preference": round(preference, 4),
        "availability": round(availability, 4),
    }
    weeks = task_weeks(task)
    free = min(weekly_capacity(worker, w) - load.hours.get(w, 0.0) for w in weeks)
    return Verdict(
        eligible=reason is None,
        excluded_by=reason,
        score=round(weights.combine(fit, learning, preference, availability), 4),
        components=components,
        matched=matched,
        gaps=gaps,
        learns=learns,
        learning_seat=stretch,
        hours={
            "per_week": task.hours_per_week,
            "min_free_per_week": round(max(free, 0.0), 2),
            "weeks": len(weeks),
        },
        dates={
            "start_date": task.start_date.isoformat(),
            "end_date": task.end_date.isoformat(),
            "available_share": components["availability"],
        },
    )
