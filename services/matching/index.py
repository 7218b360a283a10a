"""The in-memory matching index: an inverted index from skill to workers (with levels) and
from must-have skill to tasks, plus NumPy vectors of capacity by week, so that candidates of
a task are found and scored for many workers at once. Pure: built from records and loads;
`projections.py` fills it from the tables and keeps it current.

`task_candidates` computes exactly what `scoring.evaluate` computes for each worker, in bulk
(a property test holds the two together).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from services.matching.scoring import (
    NEIGHBOUR_CREDIT,
    NO_LOAD,
    WORKDAYS,
    Load,
    TaskRecord,
    Weights,
    WorkerRecord,
    availability_share,
    week_of,
    week_start,
)

KINDS = ("task", "project", "gig", "mentorship", "rotation")
_EMPTY = np.zeros(0, dtype=np.int32)
_NEVER = 1 << 30
# A posting held by at least this share of the workers also keeps a level per worker position
# (a byte each): the skills most tasks ask for are then read by a gather rather than a binary
# search. Measured on the benchmark market: 9 in 10 task skills, about 40 MB at 300k workers.
DENSE_SHARE = 1 / 256
DENSE_MIN = 32
# A shortlist of k (see `task_candidates`) first keeps this many times k by skill fit and
# preference, then k of those once learning is added.
SHORTLIST_WIDTH = 4


class Posting:
    """Sorted worker positions holding one skill, with a value each (level or target level).
    Changes queue up and are merged when the arrays are next read."""

    __slots__ = ("_at_least", "_dense", "_pending", "_positions", "_values")

    def __init__(self) -> None:
        self._positions = _EMPTY
        self._values = np.zeros(0, dtype=np.int8)
        self._pending: dict[int, int] = {}
        self._dense: np.ndarray | None = None
        self._at_least: dict[int, tuple[np.ndarray, np.ndarray]] = {}

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
            self._dense = None
            self._at_least = {}
        return self._positions, self._values

    def extend(self, positions: np.ndarray, values: np.ndarray) -> None:
        """Add workers after every position held (sorted, as a new index's workers come)."""
        held, levels = self.arrays()
        keep = values > 0
        self._positions = np.concatenate([held, positions[keep].astype(np.int32)])
        self._values = np.concatenate([levels, values[keep].astype(np.int8)])
        self._dense = None
        self._at_least = {}

    def at_least(self, value: int) -> tuple[np.ndarray, np.ndarray]:
        """The positions (sorted) and values of those with at least `value`, kept until the
        posting next changes: a task's first must-have is read this way for every task."""
        positions, values = self.arrays()
        if value <= 1:
            return positions, values
        if value not in self._at_least:
            keep = values >= value
            self._at_least[value] = (positions[keep], values[keep])
        return self._at_least[value]

    def lookup(self, workers: np.ndarray, size: int = 0) -> np.ndarray:
        """The value for each of `workers` (0 where the worker is not in the posting); `size`,
        when given, is more than every position the caller may ask about."""
        positions, values = self.arrays()
        if len(positions) == 0:
            return np.zeros(len(workers), dtype=np.int8)
        if self._dense is None and len(positions) >= max(DENSE_MIN, size * DENSE_SHARE):
            self._dense = np.zeros(max(size, int(positions[-1]) + 1), dtype=np.int8)
            self._dense[positions] = values
        if self._dense is not None:
            if len(self._dense) >= size > 0 or (len(workers) and workers.max() < len(self._dense)):
                return self._dense[workers]
            inside = workers < len(self._dense)
            found = np.zeros(len(workers), dtype=np.int8)
            found[inside] = self._dense[workers[inside]]
            return found
        at = np.minimum(np.searchsorted(positions, workers), len(positions) - 1)
        return np.where(positions[at] == workers, values[at], 0).astype(np.int8)


@dataclass
class Candidates:
    """The workers a task may take, their scores and whether each would fill a learning seat."""

    workers: np.ndarray  # positions in the index
    scores: np.ndarray
    stretch: np.ndarray  # one level below a must-have: only a learning seat
    learns: np.ndarray  # would grow a skill they aspire to: may take a learning seat
    # How many workers passed the hard constraints (more than `workers` when only the best few
    # were asked for).
    found: int = 0


def _preference_code(worker: WorkerRecord) -> int:
    """The kinds of work the worker named (a bit each) and the arrangement they want."""
    kinds = sum(1 << KINDS.index(k) for k in set(worker.task_kinds) if k in KINDS)
    return kinds * 3 + {"remote": 1, "onsite": 2}.get(worker.remote_preference, 0)


class MatchIndex:
    def __init__(self, taxonomy: Mapping[str, Iterable[str]] | None = None) -> None:
        self.taxonomy: dict[str, set[str]] = {k: set(v) for k, v in (taxonomy or {}).items()}
        self.records: list[WorkerRecord | None] = []
        self.position: dict[str, int] = {}
        self.loads: dict[int, Load] = {}
        self.skills: dict[str, Posting] = {}
        self.aspiring: dict[str, Posting] = {}
        self._ids: list[str] = []
        self.tasks: dict[str, TaskRecord] = {}
        # Org units and locations as numbers, so that filtering by them is a comparison of ints.
        self._places: dict[str | None, int] = {None: 0}
        self._preference_tables: dict[tuple[str, bool], np.ndarray] = {}
        self._credit_tables: dict[tuple[float, int], np.ndarray] = {}
        # One must-have skill of each task (one the worker must hold) → the task's id; tasks
        # whose must-haves a worker may lack entirely are in `_open_to_all`.
        self._tasks_by_skill: dict[str, set[str]] = {}
        self._open_to_all: set[str] = set()
        self._grow(1024)
        self.week0, self.weeks = 0, 0
        # Week by worker (a row per week, so that one week of many workers is one gather): hours
        # still free and assignments already held. A worker differs from their plain weekly
        # hours and no assignments only in the weeks dip_from..dip_to (windows or a ledger).
        self.free_hours = np.zeros((0, len(self.active)), dtype=np.float64)
        self.assigned = np.zeros((0, len(self.active)), dtype=np.int8)
        # Workers with availability windows or blackouts: a row each of available weekdays
        # counted from the first day of the covered weeks (cumulative), for capacity by week
        # and for each task's availability share.
        self._away_row = np.full(len(self.active), -1, dtype=np.int32)
        self._away = np.zeros((0, 1), dtype=np.int16)
        self._away_rows = 0

    # -- workers -------------------------------------------------------------------------
    def _grow(self, size: int) -> None:
        def grown(array: np.ndarray | None, dtype: type, fill: object = 0) -> np.ndarray:
            new: np.ndarray = np.full(size, fill, dtype=dtype)
            if array is not None:
                new[: len(array)] = array
            return new

        self.active = grown(getattr(self, "active", None), bool, False)
        self.weekly_hours = grown(getattr(self, "weekly_hours", None), np.float64)
        self.max_concurrent = grown(getattr(self, "max_concurrent", None), np.int16)
        # The kinds of work named (a bit each) and the arrangement wanted, as one small code.
        self.preference = grown(getattr(self, "preference", None), np.int16)
        self.windows = grown(getattr(self, "windows", None), bool, False)
        # Weekly hours of an active worker who may take an assignment at all (else -1).
        self.open_hours = grown(getattr(self, "open_hours", None), np.float64, -1.0)
        self.dip_from = grown(getattr(self, "dip_from", None), np.int32, _NEVER)
        self.dip_to = grown(getattr(self, "dip_to", None), np.int32, -1)
        self.org_unit = grown(getattr(self, "org_unit", None), np.int32)
        self.location = grown(getattr(self, "location", None), np.int32)
        if hasattr(self, "free_hours"):
            extra = size - self.free_hours.shape[1]
            self.free_hours = np.pad(self.free_hours, ((0, 0), (0, extra)))
            self.assigned = np.pad(self.assigned, ((0, 0), (0, extra)))
            self._away_row = grown(self._away_row, np.int32, -1)

    def upsert_worker(self, worker: WorkerRecord, load: Load = NO_LOAD) -> None:
        pos = self.position.get(worker.id)
        if pos is None:
            pos = len(self.records)
            if pos >= len(self.active):
                self._grow(2 * len(self.active))
            self.records.append(None)
            self._ids.append(worker.id)
            self.position[worker.id] = pos
        old = self.records[pos]
        if old is not None:
            for skill in old.skills.keys() - worker.skills.keys():
                self.skills[skill].set(pos, 0)
            for skill in old.aspirations.keys() - worker.aspirations.keys():
                self.aspiring[skill].set(pos, 0)
        for skill, level in worker.skills.items():
            posting = self.skills.get(skill)
            if posting is None:
                posting = self.skills[skill] = Posting()
            posting.set(pos, level)
        for skill, target in worker.aspirations.items():
            posting = self.aspiring.get(skill)
            if posting is None:
                posting = self.aspiring[skill] = Posting()
            posting.set(pos, target)
        self.records[pos] = worker
        self.active[pos] = worker.status == "active"
        self.max_concurrent[pos] = worker.max_concurrent
        self.weekly_hours[pos] = worker.weekly_hours
        ready = worker.status == "active" and worker.max_concurrent > 0
        self.open_hours[pos] = worker.weekly_hours if ready else -1.0
        self.preference[pos] = _preference_code(worker)
        self.windows[pos] = bool(worker.availability or worker.blackouts)
        self.org_unit[pos], self.location[pos] = (
            self._place(worker.org_unit),
            self._place(worker.location),
        )
        self.set_load(worker.id, load)

    def add_workers(
        self, workers: Sequence[WorkerRecord], loads: Mapping[str, Load] | None = None
    ) -> None:
        """`upsert_worker` for many workers at once, as when the index is first built: those it
        does not hold yet are written in bulk (each skill's posting in one step), the others
        one by one."""
        loads = loads or {}
        fresh = {w.id: w for w in workers if w.id not in self.position}
        for worker in workers:
            if worker.id not in fresh:
                self.upsert_worker(worker, loads.get(worker.id, NO_LOAD))
        new = list(fresh.values())
        n, first = len(new), len(self.records)
        if n == 0:
            return
        size = len(self.active)
        while size < first + n:
            size *= 2
        if size > len(self.active):
            self._grow(size)
        span = slice(first, first + n)
        self.records.extend(new)
        self._ids.extend(fresh)
        self.position.update(zip(fresh, range(first, first + n), strict=True))
        for book, held in (
            (self.skills, [w.skills for w in new]),
            (self.aspiring, [w.aspirations for w in new]),
        ):
            self._extend_postings(book, held, first)
        active = np.fromiter((w.status == "active" for w in new), bool, n)
        self.active[span] = active
        self.max_concurrent[span] = np.fromiter((w.max_concurrent for w in new), np.int16, n)
        self.weekly_hours[span] = np.fromiter((w.weekly_hours for w in new), np.float64, n)
        ready = active & (self.max_concurrent[span] > 0)
        self.open_hours[span] = np.where(ready, self.weekly_hours[span], -1.0)
        self.preference[span] = np.fromiter(map(_preference_code, new), np.int16, n)
        self.windows[span] = np.fromiter(
            (bool(w.availability or w.blackouts) for w in new), bool, n
        )
        self.org_unit[span] = np.fromiter((self._place(w.org_unit) for w in new), np.int32, n)
        self.location[span] = np.fromiter((self._place(w.location) for w in new), np.int32, n)
        for pos, worker in enumerate(new, start=first):
            load = loads.get(worker.id, NO_LOAD)
            if load.hours or load.assignments:
                self.loads[pos] = load
        if self.weeks:
            self.free_hours[:, span] = self.weekly_hours[span]
            self.assigned[:, span] = 0
            self.dip_from[span], self.dip_to[span] = _NEVER, -1
            for pos in range(first, first + n):
                if self.windows[pos] or pos in self.loads:
                    self._fill_weeks(pos)

    @staticmethod
    def _extend_postings(
        book: dict[str, Posting], held: list[Mapping[str, int]], first: int
    ) -> None:
        names = [skill for skills in held for skill in skills]
        values = np.fromiter((v for skills in held for v in skills.values()), np.int64, len(names))
        counts = np.fromiter(map(len, held), np.int64, len(held))
        owner = np.repeat(np.arange(first, first + len(held), dtype=np.int32), counts)
        code: dict[str, int] = {}
        codes = np.fromiter((code.setdefault(s, len(code)) for s in names), np.int64, len(names))
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(code) + 1))
        for skill, c in code.items():
            at = order[bounds[c] : bounds[c + 1]]
            posting = book.get(skill)
            if posting is None:
                posting = book[skill] = Posting()
            posting.extend(owner[at], values[at])

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
        self.records[pos] = None
        self.active[pos] = False
        self.open_hours[pos] = -1.0
        self.org_unit[pos] = self.location[pos] = 0
        self.loads.pop(pos, None)

    def _place(self, name: str | None) -> int:
        return self._places.setdefault(name, len(self._places))

    def set_load(self, worker_id: str, load: Load) -> None:
        pos = self.position[worker_id]
        if load.hours or load.assignments:
            self.loads[pos] = load
        else:
            self.loads.pop(pos, None)
        self._fill_weeks(pos)

    def _fill_weeks(self, pos: int) -> None:
        """The worker's free hours and assignments in each covered week: capacity (pro rata
        for the weekdays they are available, as `scoring.weekly_capacity`) less the ledger."""
        worker, load = self.records[pos], self.loads.get(pos, NO_LOAD)
        if worker is None or self.weeks == 0:
            return
        if self.windows[pos]:
            cumulative = self._away_days(pos, worker)
            starts = np.arange(self.weeks) * 7
            days = cumulative[starts + WORKDAYS] - cumulative[starts]
            self.free_hours[:, pos] = worker.weekly_hours * days / WORKDAYS
        else:
            self.free_hours[:, pos] = worker.weekly_hours
        self.assigned[:, pos] = 0
        for week, hours in load.hours.items():
            if 0 <= week - self.week0 < self.weeks:
                self.free_hours[week - self.week0, pos] -= hours
        for week, count in load.assignments.items():
            if 0 <= week - self.week0 < self.weeks:
                self.assigned[week - self.week0, pos] = count
        if not (self.windows[pos] or load.hours or load.assignments):
            self.dip_from[pos], self.dip_to[pos] = _NEVER, -1
            return
        dips = np.flatnonzero(
            (self.free_hours[:, pos] != worker.weekly_hours) | (self.assigned[:, pos] != 0)
        )
        self.dip_from[pos] = dips[0] if len(dips) else _NEVER
        self.dip_to[pos] = dips[-1] if len(dips) else -1

    def _away_days(self, pos: int, worker: WorkerRecord) -> np.ndarray:
        """The worker's row of available weekdays before each day of the covered weeks."""
        days = self.weeks * 7
        if self._away.shape[1] != days + 1:
            self._away = np.zeros((len(self._away), days + 1), dtype=np.int16)
        row = int(self._away_row[pos])
        if row < 0:
            if self._away_rows == len(self._away):
                extra = max(64, len(self._away))
                self._away = np.pad(self._away, ((0, extra), (0, 0)))
            row = self._away_row[pos] = self._away_rows
            self._away_rows += 1
        first = week_start(self.week0)
        free = np.full(days, not worker.availability)
        for start, end in worker.availability:
            free[max(0, (start - first).days) : max(0, (end - first).days + 1)] = True
        for start, end in worker.blackouts:
            free[max(0, (start - first).days) : max(0, (end - first).days + 1)] = False
        free &= np.arange(days) % 7 < WORKDAYS
        np.cumsum(free, out=self._away[row, 1:])
        return self._away[row]

    def cover_weeks(self, first: int, last: int) -> None:
        """Widen the capacity matrix so that it covers weeks first..last."""
        if self.weeks and self.week0 <= first and last < self.week0 + self.weeks:
            return
        start = min(first, self.week0) if self.weeks else first
        end = max(last + 1, self.week0 + self.weeks) if self.weeks else last + 1
        # Grow by a margin so that each new task does not reshape the matrix.
        self.week0, self.weeks = start - 4, (end - start) + 12
        self.free_hours = np.repeat(self.weekly_hours[None, :], self.weeks, axis=0)
        self.assigned = np.zeros((self.weeks, len(self.active)), dtype=np.int8)
        self.dip_from[:], self.dip_to[:] = _NEVER, -1
        # Only workers with windows or commitments differ from their plain weekly hours.
        for pos in sorted(set(np.flatnonzero(self.windows).tolist()) | set(self.loads)):
            self._fill_weeks(pos)

    # -- tasks and taxonomy ----------------------------------------------------------------
    def upsert_task(self, task: TaskRecord) -> None:
        old = self.tasks.get(task.id)
        if old is not None:
            self._tasks_by_skill.get(self._key_skill(old) or "", set()).discard(old.id)
            self._open_to_all.discard(old.id)
        if task.status == "open":
            self.cover_weeks(week_of(task.start_date), week_of(task.end_date))
            self.tasks[task.id] = task
            key = self._key_skill(task)
            if key is None:
                self._open_to_all.add(task.id)
            else:
                self._tasks_by_skill.setdefault(key, set()).add(task.id)
        else:
            self.tasks.pop(task.id, None)

    @staticmethod
    def _key_skill(task: TaskRecord) -> str | None:
        """A must-have every candidate holds (at level 1 or more), if the task has one."""
        slack = 1 if task.learning_seats > 0 else 0
        return next(
            (s.skill_id for s in task.skills if s.required and s.min_level - slack >= 1), None
        )

    def set_taxonomy(self, taxonomy: Mapping[str, Iterable[str]]) -> None:
        self.taxonomy = {k: set(v) for k, v in taxonomy.items()}

    def levels(self, skill_id: str, workers: np.ndarray) -> np.ndarray:
        posting = self.skills.get(skill_id)
        if posting is None:
            return np.zeros(len(workers), dtype=np.int8)
        return posting.lookup(workers, len(self.records))

    # -- candidates ------------------------------------------------------------------------
    def eligible(self, task: TaskRecord) -> tuple[np.ndarray, np.ndarray]:
        """Workers who pass every hard constraint, and which of them only on a learning seat."""
        slack = 1 if task.learning_seats > 0 else 0
        must = [s for s in task.skills if s.required]
        if must:
            if any(s.skill_id not in self.skills for s in must):
                return _EMPTY, np.zeros(0, dtype=bool)
            held = [self.skills[s.skill_id].at_least(max(1, s.min_level - slack)) for s in must]
            # Start from the must-have the fewest workers hold at level.
            first = min(range(len(must)), key=lambda i: len(held[i][0]))
            workers, levels = held[first]
            # One level below a must-have qualifies only where the task has learning seats.
            stretch = levels < must[first].min_level if slack else None
            for skill in must[:first] + must[first + 1 :]:
                level = self.levels(skill.skill_id, workers)
                keep = level >= max(1, skill.min_level - slack)
                workers = workers[keep]
                if stretch is not None:
                    stretch = stretch[keep] | (level[keep] < skill.min_level)
        else:
            workers = np.flatnonzero(self.active[: len(self.records)]).astype(np.int32)
            stretch = None
        keep = self._allowed(task, workers)
        workers = workers[keep]
        return workers, stretch[keep] if stretch is not None else np.zeros(len(workers), bool)

    def _allowed(self, task: TaskRecord, workers: np.ndarray) -> np.ndarray:
        """Which of `workers` the task's other hard constraints allow: active, not the owner,
        in the org unit or the place the task requires, hours and a free slot in every week
        of the task."""
        first, last = week_of(task.start_date) - self.week0, week_of(task.end_date) - self.week0
        covered = bool(self.weeks) and first >= 0 and last < self.weeks
        if covered:
            keep = self.open_hours[workers] >= task.hours_per_week
            # Only a worker whose hours or slots dip during the task is looked at week by week.
            odd = np.flatnonzero((self.dip_from[workers] <= last) & (self.dip_to[workers] >= first))
            if len(odd):
                some = workers[odd]
                free = self.free_hours[first].take(some)
                busy = self.assigned[first].take(some)
                for week in range(first + 1, last + 1):
                    np.minimum(free, self.free_hours[week].take(some), out=free)
                    np.maximum(busy, self.assigned[week].take(some), out=busy)
                keep[odd] = (
                    (free >= task.hours_per_week)
                    & (busy < self.max_concurrent[some])
                    & self.active[some]
                )
        else:
            keep = self.active[workers]
        owner = self.position.get(task.owner_id)
        if owner is not None:
            keep &= workers != owner
        if task.visibility == "org_unit":
            keep &= self.org_unit[workers] == self._places.get(task.org_unit, -1)
        if not task.remote and task.location:
            keep &= self.location[workers] == self._places.get(task.location, -1)
        return keep

    def _availability(self, task: TaskRecord, workers: np.ndarray) -> np.ndarray:
        """`scoring.availability_share` for each of `workers`: 1 unless they have windows."""
        share = np.ones(len(workers))
        away = np.flatnonzero(self.windows[workers])
        if len(away) == 0:
            return share
        first = week_start(self.week0)
        start, end = (task.start_date - first).days, (task.end_date - first).days
        weekdays = np.count_nonzero(np.arange(start, end + 1) % 7 < WORKDAYS)
        if self.weeks and 0 <= start <= end < self.weeks * 7 and weekdays:
            rows = self._away_row[workers[away]]
            share[away] = (self._away[rows, end + 1] - self._away[rows, start]) / weekdays
            return share
        for i in away.tolist():
            record = self.records[int(workers[i])]
            assert record is not None
            share[i] = availability_share(task, record)
        return share

    def _credit(self, weight: float, min_level: int) -> np.ndarray:
        """weight * the credit for each level 0 to 127, as `scoring.skill_lines` gives it."""
        key = (weight, min_level)
        if key not in self._credit_tables:
            self._credit_tables[key] = np.array(
                [weight * (1.0 if lv >= min_level else lv / min_level) for lv in range(128)]
            )
        return self._credit_tables[key]

    def _preference_fit(self, task: TaskRecord) -> np.ndarray:
        """`scoring.preference_fit` for each preference code."""
        key = (task.kind, task.remote)
        if key not in self._preference_tables:
            bit = 1 << KINDS.index(task.kind) if task.kind in KINDS else 0
            table = []
            for kinds in range(1 << len(KINDS)):
                kind = 0.5 if kinds == 0 else float((kinds & bit) > 0)
                for arrangement in range(3):
                    fits = arrangement == 0 or (arrangement == 1) == task.remote
                    table.append((kind + fits) / 2)
            self._preference_tables[key] = np.array(table)
        return self._preference_tables[key]

    def _holds_any(self, skills: set[str], workers: np.ndarray) -> np.ndarray:
        """Whether each of `workers` holds one of `skills`: a few workers are asked one by one
        (cheaper than a lookup per skill), many in bulk."""
        if len(workers) <= 16:
            records = [self.records[p] for p in workers.tolist()]
            return np.array(
                [r is not None and any(s in r.skills for s in skills) for r in records], dtype=bool
            )
        near = np.zeros(len(workers), dtype=bool)
        for skill_id in skills:
            if skill_id in self.skills:
                near |= self.skills[skill_id].lookup(workers, len(self.records)) > 0
        return near

    def _aspiring(self, skill_id: str, workers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of the (sorted) `workers` aspire to the skill: their indices and target levels."""
        posting = self.aspiring.get(skill_id)
        if posting is None:
            return _EMPTY, _EMPTY
        positions, targets = posting.arrays()
        if len(positions) == 0 or len(workers) == 0:
            return _EMPTY, _EMPTY
        if len(positions) < len(workers):
            at = np.minimum(np.searchsorted(workers, positions), len(workers) - 1)
            hit = workers[at] == positions
            return at[hit], targets[hit]
        target = posting.lookup(workers, len(self.records))
        at = np.flatnonzero(target)
        return at, target[at]

    def score(
        self, task: TaskRecord, workers: np.ndarray, weights: Weights
    ) -> tuple[np.ndarray, np.ndarray]:
        """`scoring.evaluate(...).score` (unrounded) for each of `workers` (sorted), and the
        learning value component. Terms are added in the task's skill order, as `evaluate`
        adds them, so that the floats agree to the last bit."""
        n = len(workers)
        held: dict[str, np.ndarray] = {}
        fit = np.zeros(n)
        for skill in task.skills:
            level = held[skill.skill_id] = self.levels(skill.skill_id, workers)
            fit += self._credit(skill.weight, skill.min_level)[level]
            related = self.taxonomy.get(skill.skill_id) if not skill.required else None
            if related:
                # Partial credit for a related or broader skill held instead.
                lacking = np.flatnonzero(level == 0)
                fit[lacking[self._holds_any(related, workers[lacking])]] += (
                    skill.weight * NEIGHBOUR_CREDIT
                )
        total = sum(s.weight for s in task.skills)
        fit = fit / total if total else fit
        learning = self._learning(task, workers, held)
        preference = self._preference_fit(task)[self.preference[workers]]
        availability = self._availability(task, workers)
        combined = weights.combine(fit, learning, preference, availability)
        return np.broadcast_to(np.asarray(combined, dtype=float), (n,)).copy(), learning

    def _learning(
        self, task: TaskRecord, workers: np.ndarray, held: dict[str, np.ndarray]
    ) -> np.ndarray:
        """`scoring.learning_value` for each of `workers` (sorted); `held` has their levels in
        the task's skills."""
        weights_by_skill = {s.skill_id: s.weight for s in task.skills}
        for skill_id in task.learning_skills:
            weights_by_skill.setdefault(skill_id, 1.0)
        learning = np.zeros(len(workers))
        for skill_id, weight in weights_by_skill.items():
            at, target = self._aspiring(skill_id, workers)
            if len(at) == 0:
                continue
            level = held[skill_id][at] if skill_id in held else self.levels(skill_id, workers[at])
            learning[at[level < target]] += weight
        total = sum(weights_by_skill.values())
        return learning / total if total else learning

    def _shortlist(
        self, task: TaskRecord, workers: np.ndarray, weights: Weights, keep: int
    ) -> np.ndarray:
        """Indices of the `keep` of `workers` (sorted) likeliest to score best, found without
        scoring them all in full: the SHORTLIST_WIDTH x keep best by skill fit (a missing
        nice-to-have counted as held through a related skill) and preference, then the `keep`
        best of those with learning added. Only availability windows and related skills are
        left out, the two costliest parts to look up."""
        held: dict[str, np.ndarray] = {}
        fit = np.zeros(len(workers))
        for skill in task.skills:
            level = held[skill.skill_id] = self.levels(skill.skill_id, workers)
            fit += self._credit(skill.weight, skill.min_level)[level]
            if not skill.required and self.taxonomy.get(skill.skill_id):
                fit += (level == 0) * (skill.weight * NEIGHBOUR_CREDIT)
        fit /= sum(s.weight for s in task.skills) or 1.0
        preference = self._preference_fit(task)[self.preference[workers]]
        wide = min(len(workers), SHORTLIST_WIDTH * keep)
        rough = weights.combine(fit, 0.0, preference, 1.0)
        first = np.sort(np.argpartition(-rough, wide - 1)[:wide])
        learning = self._learning(task, workers[first], {k: v[first] for k, v in held.items()})
        closer = weights.combine(fit[first], learning, preference[first], 1.0)
        return np.sort(first[np.argpartition(-closer, keep - 1)[:keep]])

    def task_candidates(
        self,
        task: TaskRecord,
        weights: Weights = Weights(),
        top: int | None = None,
        shortlist: int | None = None,
    ) -> Candidates:
        """Every worker who passes the hard constraints, scored; with `top`, only the `top`
        best of them (equal scores at the edge chosen arbitrarily). With `shortlist`, a task
        with more than SHORTLIST_WIDTH x shortlist eligible workers scores in full only the
        `shortlist` likeliest to be best (see `_shortlist`): approximate, for match runs."""
        workers, stretch = self.eligible(task)
        found = len(workers)
        if shortlist and found > SHORTLIST_WIDTH * shortlist:
            keep = self._shortlist(task, workers, weights, shortlist)
            workers, stretch = workers[keep], stretch[keep]
        scores, learning = self.score(task, workers, weights)
        if top and len(workers) > top:
            keep = np.sort(np.argpartition(-scores, top - 1)[:top])
            workers, stretch, scores, learning = (
                workers[keep],
                stretch[keep],
                scores[keep],
                learning[keep],
            )
        return Candidates(workers, scores, stretch, learning > 0, found)

    def worker_ids(self, positions: Iterable[int]) -> list[str]:
        return [self._ids[int(p)] for p in positions]

    def open_tasks_for(self, worker_id: str) -> list[TaskRecord]:
        """Open tasks the worker may take: must-haves held (at level, or one below where the
        task has learning seats), not their own, open to their org unit and place, hours and a
        slot free in every week: the only tasks worth scoring for a recommendation."""
        pos = self.position.get(worker_id)
        worker = self.records[pos] if pos is not None else None
        if worker is None or not self.active[pos]:
            return []
        found = set(self._open_to_all)
        for skill in worker.skills:
            found |= self._tasks_by_skill.get(skill, set())
        free, busy = self.free_hours[:, pos], self.assigned[:, pos]
        out = []
        # In the order tasks were indexed, so that equal scores list the same way every time.
        for task in self.tasks.values():
            if task.id not in found or task.owner_id == worker.id:
                continue
            if task.visibility == "org_unit" and worker.org_unit != task.org_unit:
                continue
            if not task.remote and task.location and worker.location != task.location:
                continue
            first = week_of(task.start_date) - self.week0
            last = week_of(task.end_date) - self.week0
            if self.weeks and first >= 0 and last < self.weeks:
                if free[first : last + 1].min() < task.hours_per_week:
                    continue
                if busy[first : last + 1].max() >= worker.max_concurrent:
                    continue
            slack = 1 if task.learning_seats > 0 else 0
            if all(
                worker.skills.get(s.skill_id, 0) >= s.min_level - slack
                for s in task.skills
                if s.required
            ):
                out.append(task)
        return out
