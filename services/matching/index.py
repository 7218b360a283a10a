"""The in-memory matching index: an inverted index from skill to workers (with levels) and
from must-have skill to tasks, plus NumPy vectors of capacity by week, so that candidates of
a task are found and scored for many workers at once. Pure: built from records and loads;
`projections.py` fills it from the tables and keeps it current.

`task_candidates` computes exactly what `scoring.evaluate` computes for each worker, in bulk
(a property test holds the two together).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from services.matching.scoring import (
    NEIGHBOUR_CREDIT,
    NO_LOAD,
    Load,
    TaskRecord,
    Weights,
    WorkerRecord,
    availability_share,
    week_of,
    weekly_capacity,
)

KINDS = ("task", "project", "gig", "mentorship", "rotation")
_EMPTY = np.zeros(0, dtype=np.int32)


class Posting:
    """Sorted worker positions holding one skill, with a value each (level or target level).
    Changes queue up and are merged when the arrays are next read."""

    __slots__ = ("_pending", "_positions", "_values")

    def __init__(self) -> None:
        self._positions = _EMPTY
        self._values = np.zeros(0, dtype=np.int8)
        self._pending: dict[int, int] = {}

    def set(self, position: int, value: int) -> None:
        """value 0 removes the worker from the posting."""
        self._pending[position] = value

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._pending:
            changed = np.fromiter(self._pending, dtype=np.int32, count=len(self._pending))
            values = np.fromiter(self._pending.values(), dtype=np.int8, count=len(changed))
            keep = ~np.isin(self._positions, changed)
            positions = np.concatenate([self._positions[keep], changed[values > 0]])
            levels = np.concatenate([self._values[keep], values[values > 0]])
            order = np.argsort(positions, kind="stable")
            self._positions, self._values = positions[order], levels[order]
            self._pending = {}
        return self._positions, self._values

    def lookup(self, workers: np.ndarray) -> np.ndarray:
        """The value for each of `workers` (0 where the worker is not in the posting)."""
        positions, values = self.arrays()
        if len(positions) == 0:
            return np.zeros(len(workers), dtype=np.int8)
        at = np.minimum(np.searchsorted(positions, workers), len(positions) - 1)
        return np.where(positions[at] == workers, values[at], 0).astype(np.int8)


@dataclass
class Candidates:
    """The workers a task may take, their scores and whether each would fill a learning seat."""

    workers: np.ndarray  # positions in the index
    scores: np.ndarray
    stretch: np.ndarray  # one level below a must-have: only a learning seat
    learns: np.ndarray  # would grow a skill they aspire to: may take a learning seat


class MatchIndex:
    def __init__(self, taxonomy: Mapping[str, Iterable[str]] | None = None) -> None:
        self.taxonomy: dict[str, set[str]] = {k: set(v) for k, v in (taxonomy or {}).items()}
        self.records: list[WorkerRecord | None] = []
        self.position: dict[str, int] = {}
        self.loads: dict[int, Load] = {}
        self.skills: dict[str, Posting] = {}
        self.aspiring: dict[str, Posting] = {}
        self._neighbours: dict[str, np.ndarray] = {}
        self.tasks: dict[str, TaskRecord] = {}
        self._grow(1024)
        self.week0, self.weeks = 0, 0
        self.remaining = np.zeros((len(self.active), 0), dtype=np.float64)
        self.busy = np.zeros((len(self.active), 0), dtype=np.int8)

    # -- workers -------------------------------------------------------------------------
    def _grow(self, size: int) -> None:
        def grown(array: np.ndarray | None, dtype: type, fill: object = 0) -> np.ndarray:
            new = np.full(size, fill, dtype=dtype)
            if array is not None:
                new[: len(array)] = array
            return new

        self.active = grown(getattr(self, "active", None), bool, False)
        self.weekly_hours = grown(getattr(self, "weekly_hours", None), np.float64)
        self.max_concurrent = grown(getattr(self, "max_concurrent", None), np.int16)
        self.kinds = grown(getattr(self, "kinds", None), np.int8)
        self.remote_pref = grown(getattr(self, "remote_pref", None), np.int8)
        self.windows = grown(getattr(self, "windows", None), bool, False)
        self.org_unit = grown(getattr(self, "org_unit", None), object, None)
        self.location = grown(getattr(self, "location", None), object, None)
        if hasattr(self, "remaining"):
            extra = size - len(self.remaining)
            self.remaining = np.pad(self.remaining, ((0, extra), (0, 0)))
            self.busy = np.pad(self.busy, ((0, extra), (0, 0)))

    def upsert_worker(self, worker: WorkerRecord, load: Load = NO_LOAD) -> None:
        pos = self.position.get(worker.id)
        if pos is None:
            pos = len(self.records)
            if pos >= len(self.active):
                self._grow(2 * len(self.active))
            self.records.append(None)
            self.position[worker.id] = pos
        old = self.records[pos]
        for skill in (old.skills if old else {}).keys() - worker.skills.keys():
            self.skills[skill].set(pos, 0)
        for skill, level in worker.skills.items():
            self.skills.setdefault(skill, Posting()).set(pos, level)
        for skill in (old.aspirations if old else {}).keys() - worker.aspirations.keys():
            self.aspiring[skill].set(pos, 0)
        for skill, target in worker.aspirations.items():
            self.aspiring.setdefault(skill, Posting()).set(pos, target)
        if old is None or old.skills != worker.skills:
            self._neighbours.clear()
        self.records[pos] = worker
        self.active[pos] = worker.status == "active"
        self.max_concurrent[pos] = worker.max_concurrent
        self.weekly_hours[pos] = worker.weekly_hours
        self.kinds[pos] = sum(1 << KINDS.index(k) for k in set(worker.task_kinds) if k in KINDS)
        self.remote_pref[pos] = {"remote": 1, "onsite": 2}.get(worker.remote_preference, 0)
        self.windows[pos] = bool(worker.availability or worker.blackouts)
        self.org_unit[pos], self.location[pos] = worker.org_unit, worker.location
        self.set_load(worker.id, load)

    def remove_worker(self, worker_id: str) -> None:
        """An erased worker leaves no trace: skills, aspirations, loads and record."""
        pos = self.position.get(worker_id)
        if pos is None or self.records[pos] is None:
            return
        old = self.records[pos]
        assert old is not None
        for skill in old.skills:
            self.skills[skill].set(pos, 0)
        for skill in old.aspirations:
            self.aspiring[skill].set(pos, 0)
        self._neighbours.clear()
        self.records[pos] = None
        self.active[pos] = False
        self.org_unit[pos] = self.location[pos] = None
        self.loads.pop(pos, None)

    def set_load(self, worker_id: str, load: Load) -> None:
        pos = self.position[worker_id]
        if load.hours or load.assignments:
            self.loads[pos] = load
        else:
            self.loads.pop(pos, None)
        self._fill_weeks(pos)

    def _fill_weeks(self, pos: int) -> None:
        worker, load = self.records[pos], self.loads.get(pos, NO_LOAD)
        if worker is None or self.weeks == 0:
            return
        span = range(self.week0, self.week0 + self.weeks)
        if self.windows[pos]:
            capacity = [weekly_capacity(worker, week) for week in span]
        else:
            capacity = [worker.weekly_hours] * self.weeks
        self.remaining[pos] = [
            c - load.hours.get(w, 0.0) for c, w in zip(capacity, span, strict=True)
        ]
        self.busy[pos] = [load.assignments.get(w, 0) for w in span]

    def cover_weeks(self, first: int, last: int) -> None:
        """Widen the capacity matrix so that it covers weeks first..last."""
        if self.weeks and self.week0 <= first and last < self.week0 + self.weeks:
            return
        start = min(first, self.week0) if self.weeks else first
        end = max(last + 1, self.week0 + self.weeks) if self.weeks else last + 1
        # Grow by a margin so that each new task does not reshape the matrix.
        self.week0, self.weeks = start - 4, (end - start) + 12
        self.remaining = np.repeat(self.weekly_hours[:, None], self.weeks, axis=1)
        self.busy = np.zeros((len(self.active), self.weeks), dtype=np.int8)
        # Only workers with windows or commitments differ from their plain weekly hours.
        for pos in set(np.flatnonzero(self.windows).tolist()) | set(self.loads):
            self._fill_weeks(pos)

    # -- tasks and taxonomy ----------------------------------------------------------------
    def upsert_task(self, task: TaskRecord) -> None:
        if task.status == "open":
            self.cover_weeks(week_of(task.start_date), week_of(task.end_date))
            self.tasks[task.id] = task
        else:
            self.tasks.pop(task.id, None)

    def set_taxonomy(self, taxonomy: Mapping[str, Iterable[str]]) -> None:
        self.taxonomy = {k: set(v) for k, v in taxonomy.items()}
        self._neighbours.clear()

    def neighbour_holders(self, skill_id: str) -> np.ndarray:
        """Sorted positions of workers holding a related or broader skill of `skill_id`."""
        if skill_id not in self._neighbours:
            holders = [
                self.skills[n].arrays()[0]
                for n in self.taxonomy.get(skill_id, ())
                if n in self.skills
            ]
            self._neighbours[skill_id] = np.unique(np.concatenate(holders)) if holders else _EMPTY
        return self._neighbours[skill_id]

    def levels(self, skill_id: str, workers: np.ndarray) -> np.ndarray:
        posting = self.skills.get(skill_id)
        return posting.lookup(workers) if posting else np.zeros(len(workers), dtype=np.int8)

    # -- candidates ------------------------------------------------------------------------
    def eligible(self, task: TaskRecord) -> tuple[np.ndarray, np.ndarray]:
        """Workers who pass every hard constraint, and which of them only on a learning seat."""
        slack = 1 if task.learning_seats > 0 else 0
        must = sorted(
            (s for s in task.skills if s.required),
            key=lambda s: (
                len(self.skills[s.skill_id].arrays()[0]) if s.skill_id in self.skills else 0
            ),
        )
        if must:
            first = self.skills.get(must[0].skill_id)
            if first is None:
                return _EMPTY, np.zeros(0, dtype=bool)
            positions, levels = first.arrays()
            keep = levels >= max(1, must[0].min_level - slack)
            workers = positions[keep]
            stretch = levels[keep] < must[0].min_level
            for skill in must[1:]:
                level = self.levels(skill.skill_id, workers)
                keep = level >= max(1, skill.min_level - slack)
                workers, stretch = workers[keep], (stretch[keep] | (level[keep] < skill.min_level))
        else:
            workers = np.flatnonzero(self.active[: len(self.records)]).astype(np.int32)
            stretch = np.zeros(len(workers), dtype=bool)
        keep = self.active[workers]
        owner = self.position.get(task.owner_id)
        if owner is not None:
            keep &= workers != owner
        if task.visibility == "org_unit":
            keep &= self.org_unit[workers] == task.org_unit
        if not task.remote and task.location:
            keep &= self.location[workers] == task.location
        first, last = week_of(task.start_date) - self.week0, week_of(task.end_date) - self.week0
        if self.weeks and first >= 0 and last < self.weeks:
            span = slice(first, last + 1)
            keep &= self.remaining[workers, span].min(axis=1) >= task.hours_per_week
            keep &= self.busy[workers, span].max(axis=1) < self.max_concurrent[workers]
        return workers[keep], stretch[keep]

    def score(
        self, task: TaskRecord, workers: np.ndarray, weights: Weights
    ) -> tuple[np.ndarray, np.ndarray]:
        """`scoring.evaluate(...).score` (unrounded) for each of `workers`, and the learning
        value component."""
        n = len(workers)
        fit = np.zeros(n)
        weights_by_skill: dict[str, float] = {}
        for skill in task.skills:
            weights_by_skill[skill.skill_id] = skill.weight
            level = self.levels(skill.skill_id, workers).astype(np.float64)
            credit = np.where(level >= skill.min_level, 1.0, level / skill.min_level)
            if not skill.required:
                near = np.isin(workers, self.neighbour_holders(skill.skill_id))
                credit = np.where((level == 0) & near, NEIGHBOUR_CREDIT, credit)
            fit += skill.weight * credit
        total = sum(s.weight for s in task.skills)
        fit = fit / total if total else fit
        for skill_id in task.learning_skills:
            weights_by_skill.setdefault(skill_id, 1.0)
        learning = np.zeros(n)
        for skill_id, weight in weights_by_skill.items():
            posting = self.aspiring.get(skill_id)
            if posting is None:
                continue
            target = posting.lookup(workers)
            learning += weight * ((target > 0) & (self.levels(skill_id, workers) < target))
        learning_total = sum(weights_by_skill.values())
        learning = learning / learning_total if learning_total else learning
        kinds = self.kinds[workers]
        bit = 1 << KINDS.index(task.kind) if task.kind in KINDS else 0
        kind = np.where(kinds == 0, 0.5, ((kinds & bit) > 0).astype(np.float64))
        pref = self.remote_pref[workers]
        arrangement = (pref == 0) | ((pref == 1) == task.remote)
        preference = (kind + arrangement) / 2
        availability = np.ones(n)
        for i in np.flatnonzero(self.windows[workers]):
            record = self.records[int(workers[i])]
            assert record is not None
            availability[i] = availability_share(task, record)
        combined = weights.combine(fit, learning, preference, availability)
        return np.broadcast_to(np.asarray(combined, dtype=float), (n,)).copy(), learning

    def task_candidates(self, task: TaskRecord, weights: Weights = Weights()) -> Candidates:
        workers, stretch = self.eligible(task)
        scores, learning = self.score(task, workers, weights)
        return Candidates(workers, scores, stretch, learning > 0)

    def worker_ids(self, positions: Iterable[int]) -> list[str]:
        ids = {pos: wid for wid, pos in self.position.items()}
        return [ids[int(p)] for p in positions]

    def open_tasks_for(self, worker_id: str) -> list[TaskRecord]:
        """Open tasks whose must-haves the worker holds (at level, or one below where the task
        has learning seats): the only tasks worth scoring for a recommendation."""
        pos = self.position.get(worker_id)
        worker = self.records[pos] if pos is not None else None
        if worker is None:
            return []
        out = []
        for task in self.tasks.values():
            slack = 1 if task.learning_seats > 0 else 0
            if all(
                worker.skills.get(s.skill_id, 0) >= s.min_level - slack
                for s in task.skills
                if s.required
            ):
                out.append(task)
        return out
