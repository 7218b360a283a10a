"""A seeded marketplace for the match-run benchmark and the solver's tests: workers and tasks over
a real taxonomy (O*NET's skills, knowledge areas and technology products) or a synthetic one of
the same shape. `generate` is pure and deterministic for a taxonomy and a seed; reading the
taxonomy files is this module's only I/O.

The market is built to be hard in the way real ones are: skill popularity is skewed (Excel is
everywhere, most products belong to one occupation), and a few scarce skills are held only by
busy experts who are also the best people for popular tasks, so taking the best pair first
leaves the scarce tasks empty.
"""

import csv
import math
import os
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from services.kernel.taxonomy_ids import element_id, product_ids
from services.matching.scoring import Load, TaskRecord, TaskSkill, WorkerRecord, week_of

# workers x tasks of the benchmark's named sizes.
SIZES: dict[str, tuple[int, int]] = {
    "2k": (2_000, 200),
    "20k": (20_000, 2_000),
    "50k": (50_000, 5_000),
    "100k": (100_000, 10_000),
    "300k": (300_000, 20_000),
}
QUARTER_START = date(2027, 1, 4)  # a Monday
QUARTER_WEEKS = 13
# O*NET rates importance 1 to 5; a skill counts for an occupation from "Important" (3) up.
MIN_IMPORTANCE = 3.0
# Related skills per skill: the most widespread others of its category.
NEIGHBOURS = 3
# Technology products kept per occupation: what its job postings ask for and hot ones first.
TECHNOLOGY_PER_OCCUPATION = 30
# One scarce skill for this many tasks; each has two or three holders and as many tasks.
TASKS_PER_SCARCE_SKILL = 50
ORG_UNITS = tuple(f"unit-{n:02d}" for n in range(24))
LOCATIONS = ("Paris", "Oslo", "Lisbon", "Berlin", "Austin", "Toronto", "Pune", "Sydney")
KINDS = ("task", "project", "gig", "mentorship", "rotation")


def onet_folder() -> Path:
    """The O*NET release in the shared data folder (TASKFORCE_SHARED_DATA, or ../shared/data
    beside the repository)."""
    configured = os.environ.get("TASKFORCE_SHARED_DATA")
    shared = (
        Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared" / "data"
    )
    return shared / "onet"


@dataclass(frozen=True)
class Occupation:
    code: str
    title: str
    # (skill id, importance 1 to 5, typical level 1 to 5), most important first.
    elements: tuple[tuple[str, float, int], ...]
    # Technology products, most asked-for first.
    technology: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    source: str
    labels: Mapping[str, str]
    # Skill id → related skills (same content-model branch or the same commodity class).
    related: Mapping[str, tuple[str, ...]]
    occupations: tuple[Occupation, ...]
    # Skill id → occupations that list it: the skew the generator reproduces.
    popularity: Mapping[str, int]


@dataclass(frozen=True)
class Marketplace:
    workers: list[WorkerRecord]
    loads: dict[str, Load]
    tasks: list[TaskRecord]
    taxonomy: Taxonomy
    # Skills many tasks require and only a few busy experts hold.
    scarce: tuple[str, ...]
    seed: int


def parse_size(name: str) -> tuple[int, int]:
    """A named size ("50k") or an explicit "WORKERSxTASKS" ("500x50")."""
    if name in SIZES:
        return SIZES[name]
    workers, _, tasks = name.lower().partition("x")
    if not (workers.isdigit() and tasks.isdigit()):
        raise ValueError(f"size {name!r}: one of {', '.join(SIZES)} or WORKERSxTASKS")
    return int(workers), int(tasks)


# -- taxonomies --------------------------------------------------------------------------------
def _onet_level(value: str) -> int:
    """O*NET's Level scale (0 to 7) onto 1 to 5 as the catalog's importer maps it (1 + LV * 4/7,
    rounded half up); an unrated level is the middle of the scale."""
    if value in ("", "n/a"):
        return 3
    return max(1, min(5, math.floor(1 + float(value) * 4 / 7 + 0.5)))


def _tsv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:]


def _neighbours(groups: Mapping[str, list[str]], popularity: Mapping[str, int]) -> dict:
    related: dict[str, tuple[str, ...]] = {}
    for members in groups.values():
        ranked = sorted(set(members), key=lambda s: (-popularity.get(s, 0), s))
        for skill in ranked:
            related[skill] = tuple(s for s in ranked if s != skill)[:NEIGHBOURS]
    return related


def onet_taxonomy(folder: Path) -> Taxonomy:
    """Occupations with their important skills and knowledge areas (and rated levels) and
    their technology products, read from the O*NET text release."""
    names = {row[0]: row[1] for row in _tsv(folder / "Content Model Reference.txt")}
    titles = {row[0]: row[1] for row in _tsv(folder / "Occupation Data.txt")}
    rated: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for member in ("Skills.txt", "Knowledge.txt"):
        for code, element, _, scale, value, *rest in _tsv(folder / member):
            if rest[4] != "Y":  # Recommend Suppress: too unreliable to use
                rated[code, element][scale] = value
    elements: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for (code, element), scales in sorted(rated.items()):
        importance = float(scales.get("IM", "0") or 0)
        if importance >= MIN_IMPORTANCE:
            level = _onet_level(scales.get("LV", ""))
            elements[code].append((element_id(element), importance, level))
    technology_rows = _tsv(folder / "Technology Skills.txt")
    ids, _ = product_ids(row[1] for row in technology_rows)
    technology: dict[str, list[tuple[int, str]]] = defaultdict(list)
    classes: dict[str, list[str]] = defaultdict(list)
    for code, product, commodity, _, hot, in_demand in technology_rows:
        technology[code].append(((in_demand == "Y") * 2 + (hot == "Y"), ids[product]))
        classes[commodity].append(ids[product])
    popularity: Counter[str] = Counter()
    for listed in elements.values():
        popularity.update(skill for skill, _, _ in listed)
    for products in technology.values():
        popularity.update({skill for _, skill in products})
    occupations = []
    for code in sorted(elements):
        if len(elements[code]) < 5:
            continue
        listed = sorted(elements[code], key=lambda e: (-e[1], e[0]))
        products = sorted(
            set(technology.get(code, [])), key=lambda p: (-p[0], -popularity[p[1]], p[1])
        )
        kept = tuple(dict.fromkeys(p for _, p in products))[:TECHNOLOGY_PER_OCCUPATION]
        occupations.append(Occupation(code, titles.get(code, code), tuple(listed), kept))
    labels = {element_id(e): name for e, name in names.items()}
    labels.update({skill: product for product, skill in ids.items()})
    branches: dict[str, list[str]] = defaultdict(list)
    for skill in {s for o in occupations for s, _, _ in o.elements}:
        branches[skill.rsplit(".", 1)[0]].append(skill)
    related = _neighbours(branches, popularity) | _neighbours(classes, popularity)
    return Taxonomy("onet", labels, related, tuple(occupations), dict(popularity))


def synthetic_taxonomy(occupations: int = 300, seed: int = 7) -> Taxonomy:
    """The O*NET shape without the files: ~70 broad skills in branches, a few thousand
    products in classes with a long-tailed spread over occupations."""
    rng = np.random.default_rng(seed)
    elements = [f"synthetic:element:{b}.{k}" for b in range(10) for k in range(7)]
    products = [f"synthetic:technology:p{n:04d}" for n in range(3000)]
    # Zipf-like reach: the first products are listed by most occupations, most by one or two.
    reach = 1.0 / np.arange(1, len(products) + 1) ** 0.9
    listed = []
    for n in range(occupations):
        chosen = rng.choice(len(elements), size=int(rng.integers(12, 26)), replace=False)
        own = [
            (elements[int(e)], round(float(rng.uniform(3, 5)), 2), int(rng.integers(2, 6)))
            for e in chosen
        ]
        own.sort(key=lambda e: (-e[1], e[0]))
        tools = rng.choice(
            len(products), size=int(rng.integers(10, 40)), replace=False, p=reach / reach.sum()
        )
        listed.append(
            Occupation(
                f"S-{n:04d}",
                f"Synthetic occupation {n}",
                tuple(own),
                tuple(products[int(t)] for t in sorted(tools)),
            )
        )
    popularity: Counter[str] = Counter()
    for occupation in listed:
        popularity.update(s for s, _, _ in occupation.elements)
        popularity.update(occupation.technology)
    labels = {s: s.rsplit(":", 1)[1] for s in elements + products}
    branches = {
        f"b{b}": [e for e in elements if e.startswith(f"synthetic:element:{b}.")] for b in range(10)
    }
    classes = {f"c{c}": products[c::100] for c in range(100)}
    related = _neighbours(branches, popularity) | _neighbours(classes, popularity)
    return Taxonomy("synthetic", labels, related, tuple(listed), dict(popularity))


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """O*NET from the shared data folder when it is there, the synthetic taxonomy otherwise."""
    folder = onet_folder()
    if (folder / "Skills.txt").is_file() and (folder / "Technology Skills.txt").is_file():
        return onet_taxonomy(folder)
    return synthetic_taxonomy()


# -- the market --------------------------------------------------------------------------------
def _skewed(count: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like shares over `count` items in a random order: a few large, a long tail."""
    shares = 1.0 / (rng.permutation(count) + 1.0) ** exponent
    return shares / shares.sum()


def _draw(rng: np.random.Generator, weights: np.ndarray, rows: int) -> np.ndarray:
    """For each row a random order of the items, likelier items first (Gumbel keys), so the
    first k of a row are k draws without replacement in proportion to the weights."""
    keys = np.log(weights)[None, :] + rng.gumbel(size=(rows, len(weights)))
    return np.argsort(-keys, axis=1)


@dataclass(frozen=True)
class _Items:
    """An occupation's skills as arrays: elements first, then its technology."""

    ids: list[str]
    technology: np.ndarray  # a product rather than a skill or knowledge area
    level: np.ndarray  # typical level; 3 for technology
    weight: np.ndarray  # importance as a requirement's weight
    common: np.ndarray  # how likely a worker of the occupation holds it
    distinctive: np.ndarray  # how likely a task of the occupation requires it


def _items(occupation: Occupation, taxonomy: Taxonomy) -> _Items:
    total = len(taxonomy.occupations)
    ids = [s for s, _, _ in occupation.elements] + list(occupation.technology)
    importance = np.array(
        [i for _, i, _ in occupation.elements] + [3.0] * len(occupation.technology)
    )
    level = np.array([lv for _, _, lv in occupation.elements] + [3] * len(occupation.technology))
    rank = np.concatenate(
        [np.zeros(len(occupation.elements)), np.arange(len(occupation.technology))]
    )
    technology = np.arange(len(ids)) >= len(occupation.elements)
    common = np.where(technology, 12.0 / np.sqrt(1.0 + rank), importance**2)
    reach = np.array([max(1, taxonomy.popularity.get(s, 1)) for s in ids])
    rarity = np.maximum(np.log(total / reach), 0.0) + 0.1
    distinctive = np.where(technology & (rank >= 5), 0.05, importance * rarity)
    return _Items(ids, technology, level, np.round(importance, 1), common, distinctive)


def _choice(rng: np.random.Generator, values: tuple, shares: tuple, size: int) -> np.ndarray:
    return rng.choice(np.array(values, dtype=object), size=size, p=np.array(shares) / sum(shares))


def generate(
    n_workers: int, n_tasks: int, seed: int = 0, taxonomy: Taxonomy | None = None
) -> Marketplace:
    """Workers with 3 to 12 skills at levels 1 to 5, aspirations, 2 to 20 h a week, some with
    commitments and blackouts; tasks with 3 to 8 skills (1 to 3 must-haves), 1 to 3 seats, some
    learning seats, over one quarter; and the scarce skills the module docstring describes."""
    taxonomy = taxonomy or default_taxonomy()
    rng = np.random.default_rng(seed)
    occupations = taxonomy.occupations
    # A small company spans fewer occupations than a large one.
    spanned = rng.choice(
        len(occupations), min(len(occupations), max(20, n_workers // 25)), replace=False
    )
    supply = np.zeros(len(occupations))
    supply[spanned] = _skewed(len(spanned), 0.7, rng)
    demand = supply * rng.lognormal(0.0, 0.5, len(occupations))
    demand /= demand.sum()
    worker_occupation = rng.choice(len(occupations), size=n_workers, p=supply)
    task_occupation = rng.choice(len(occupations), size=n_tasks, p=demand)
    items = {
        o: _items(occupations[o], taxonomy)
        for o in sorted(set(worker_occupation) | set(task_occupation))
    }
    ids = [f"w{n:06d}" for n in range(n_workers)]

    skills, aspirations = _worker_skills(rng, worker_occupation, items, taxonomy)
    hours = _choice(rng, (2, 4, 6, 8, 10, 12, 16, 20), (1, 3, 3, 4, 3, 2, 1, 1), n_workers)
    concurrent = _choice(rng, (1, 2, 3), (3, 5, 2), n_workers)
    status = np.where(rng.random(n_workers) < 0.02, "inactive", "active")
    org_unit = rng.integers(0, len(ORG_UNITS), n_workers)
    location = rng.integers(0, len(LOCATIONS), n_workers)
    remote = _choice(rng, ("any", "remote", "hybrid", "onsite"), (5, 3, 1, 1), n_workers)
    kinds = rng.integers(0, 1 << len(KINDS), n_workers) * (rng.random(n_workers) < 0.4)
    away = rng.random(n_workers)
    away_start = rng.integers(0, QUARTER_WEEKS * 7 - 14, n_workers)
    away_days = rng.integers(3, 15, n_workers)
    committed = rng.random(n_workers) < 0.25
    load_from = rng.integers(0, QUARTER_WEEKS - 1, n_workers)
    load_weeks = rng.integers(1, 9, n_workers)
    load_share = rng.choice([0.25, 0.5, 0.75, 1.0], n_workers)

    scarce = _scarce_skills(
        rng, taxonomy, n_tasks, worker_occupation, demand, items, skills, aspirations
    )
    holder_set = {w for s in scarce for w in s.holders}
    first_week = week_of(QUARTER_START)
    workers: list[WorkerRecord] = []
    loads: dict[str, Load] = {}
    for n, worker_id in enumerate(ids):
        blackouts: tuple[tuple[date, date], ...] = ()
        availability: tuple[tuple[date, date], ...] = ()
        expert = n in holder_set
        if away[n] < 0.15 and not expert:
            begin = QUARTER_START + timedelta(days=int(away_start[n]))
            blackouts = ((begin, begin + timedelta(days=int(away_days[n]) - 1)),)
        elif away[n] < 0.18 and not expert:
            # Joins the marketplace part-way through the quarter.
            availability = (
                (QUARTER_START + timedelta(days=int(away_start[n])), date(2099, 12, 31)),
            )
        workers.append(
            WorkerRecord(
                id=worker_id,
                skills=skills[n],
                weekly_hours=10.0 if expert else float(hours[n]),
                status="active" if expert else str(status[n]),
                org_unit=ORG_UNITS[int(org_unit[n])],
                location=LOCATIONS[int(location[n])],
                remote_preference="any" if expert else str(remote[n]),
                max_concurrent=1 if expert else int(concurrent[n]),
                aspirations=aspirations[n],
                task_kinds=KINDS
                if expert
                else tuple(k for b, k in enumerate(KINDS) if kinds[n] >> b & 1),
                availability=availability,
                blackouts=blackouts,
                name=f"Worker {n}",
            )
        )
        if committed[n] and not expert:
            weeks = range(
                first_week + int(load_from[n]),
                first_week + min(QUARTER_WEEKS, int(load_from[n] + load_weeks[n])),
            )
            taken = float(hours[n]) * float(load_share[n])
            loads[worker_id] = Load({w: taken for w in weeks}, {w: 1 for w in weeks})
    tasks = _tasks(rng, task_occupation, items, occupations, ids, scarce, demand)
    return Marketplace(workers, loads, tasks, taxonomy, tuple(s.skill for s in scarce), seed)


def _worker_skills(
    rng: np.random.Generator,
    occupation_of: np.ndarray,
    items: Mapping[int, _Items],
    taxonomy: Taxonomy,
) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
    """Skills mostly from the worker's occupation (its important ones likelier), a tenth with
    one skill from anywhere (a former job, a hobby), levels around the occupation's typical
    level by seniority; aspirations toward skills of the occupation not yet held, or one
    level up in a held one."""
    n = len(occupation_of)
    count = rng.integers(3, 13, n)
    seniority = rng.choice([-1, 0, 1], n, p=[0.3, 0.5, 0.2])
    wants = rng.choice([0, 1, 2, 3], n, p=[0.3, 0.35, 0.25, 0.1])
    grows = rng.random(n) < 0.3
    anywhere = sorted(taxonomy.popularity)
    reach = np.array([taxonomy.popularity[s] for s in anywhere], dtype=float)
    stray = rng.choice(len(anywhere), size=n, p=reach / reach.sum())
    strays = rng.random(n) < 0.1
    stray_level = rng.integers(1, 6, n)
    skills: list[dict[str, int]] = [{} for _ in range(n)]
    aspirations: list[dict[str, int]] = [{} for _ in range(n)]
    for o in np.unique(occupation_of).tolist():
        members = np.flatnonzero(occupation_of == o)
        it = items[o]
        order = _draw(rng, it.common, len(members))
        noise = rng.choice([-1, 0, 0, 1], size=order.shape)
        level = np.clip(it.level[order] + seniority[members, None] + noise, 1, 5).tolist()
        width = order.shape[1]
        order_ids = [[it.ids[i] for i in row] for row in order.tolist()]
        for row, w in enumerate(members.tolist()):
            k = min(int(count[w]), width)
            held = dict(zip(order_ids[row][:k], level[row][:k], strict=True))
            if strays[w]:
                if k == 12:
                    del held[order_ids[row][k - 1]]
                held.setdefault(anywhere[int(stray[w])], int(stray_level[w]))
            wanted = order[row, k : k + int(wants[w])].tolist()
            aims = {it.ids[i]: int(max(2, it.level[i])) for i in wanted}
            if grows[w]:
                below = [s for s, lv in held.items() if lv < 5]
                if below:
                    aims[below[0]] = held[below[0]] + 1
            skills[w], aspirations[w] = held, aims
    return skills, aspirations


@dataclass(frozen=True)
class _Scarce:
    skill: str
    host: int  # the occupation whose experts hold it
    holders: tuple[int, ...]


def _scarce_skills(
    rng: np.random.Generator,
    taxonomy: Taxonomy,
    n_tasks: int,
    occupation_of: np.ndarray,
    demand: np.ndarray,
    items: Mapping[int, _Items],
    skills: list[dict[str, int]],
    aspirations: list[dict[str, int]],
) -> list[_Scarce]:
    """Products listed by a single occupation and held by no one yet become scarce: two or three
    senior people of an occupation in demand get one, together with the occupation's main
    skills at a high level; they take one assignment at a time."""
    held = Counter(s for worker in skills for s in worker)
    tail = sorted(
        s
        for s, reach in taxonomy.popularity.items()
        if reach == 1 and not held[s] and ":technology:" in s
    )
    staffed = np.bincount(occupation_of, minlength=len(demand))
    hosts = np.flatnonzero(staffed >= 6)
    count = min(max(1, n_tasks // TASKS_PER_SCARCE_SKILL), len(tail), len(occupation_of) // 6)
    if count == 0 or len(hosts) == 0:
        return []
    chosen = rng.choice(len(tail), size=count, replace=False)
    host_of = rng.choice(hosts, size=count, p=demand[hosts] / demand[hosts].sum())
    taken: set[int] = set()
    out = []
    for skill_index, host in zip(sorted(chosen.tolist()), host_of.tolist(), strict=True):
        it = items[host]
        pool = [w for w in np.flatnonzero(occupation_of == host).tolist() if w not in taken]
        people = rng.choice(
            pool, size=min(len(pool), int(rng.integers(2, 4))), replace=False
        ).tolist()
        elements = [i for i in range(len(it.ids)) if not it.technology[i]][:8]
        products = [i for i in range(len(it.ids)) if it.technology[i]][:3]
        for w in people:
            expertise = {it.ids[i]: int(min(5, it.level[i] + 1)) for i in elements}
            expertise.update({it.ids[i]: 4 for i in products})
            skills[w] = {tail[skill_index]: 5, **expertise}
            aspirations[w] = {}
            taken.add(w)
        out.append(_Scarce(tail[skill_index], host, tuple(people)))
    return out


def _tasks(
    rng: np.random.Generator,
    task_occupation: np.ndarray,
    items: Mapping[int, _Items],
    occupations: tuple[Occupation, ...],
    worker_ids: list[str],
    scarce: list[_Scarce],
    demand: np.ndarray,
) -> list[TaskRecord]:
    """Tasks of an occupation require its distinctive skills (must-haves, at its typical level
    or one below) and wish for its common ones; the last tasks each need one scarce skill and
    run most of the quarter, with nice-to-haves from another occupation."""
    n = len(task_occupation)
    wanted = [s for s in scarce for _ in range(len(s.holders))][:n]
    regular = n - len(wanted)
    size = rng.integers(3, 9, n)
    musts = np.minimum(rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2]), size - 1)
    seats = rng.choice([1, 2, 3], n, p=[0.6, 0.25, 0.15])
    learning = np.where(seats > 1, rng.random(n) < 0.35, rng.random(n) < 0.08).astype(int)
    hours = rng.choice([2, 4, 4, 6, 8, 10], n).astype(float)
    start = rng.integers(0, 10, n) * 7 + rng.integers(0, 5, n)
    length = rng.integers(1, 9, n) * 7 - rng.integers(0, 3, n)
    kind = rng.choice(len(KINDS), n, p=[0.45, 0.25, 0.15, 0.1, 0.05])
    onsite = rng.random(n) < 0.15
    location = rng.integers(0, len(LOCATIONS), n)
    closed = rng.random(n) < 0.08
    org_unit = rng.integers(0, len(ORG_UNITS), n)
    owner = rng.integers(0, len(worker_ids), n)
    names_learning = rng.random(n) < 0.2
    lowered = rng.random((n, 3)) < 0.7
    product_level = rng.choice([2, 3], (n, 3), p=[0.6, 0.4])
    quarter_end = QUARTER_START + timedelta(weeks=QUARTER_WEEKS, days=-1)
    holders = {w for s in scarce for w in s.holders}
    requirements: list[tuple[TaskSkill, ...]] = [() for _ in range(n)]
    learns: list[tuple[str, ...]] = [() for _ in range(n)]
    for o in np.unique(task_occupation[:regular]).tolist():
        members = np.flatnonzero(task_occupation[:regular] == o)
        it = items[o]
        must_order = _draw(rng, it.distinctive, len(members)).tolist()
        nice_order = _draw(rng, it.common, len(members)).tolist()
        for row, t in enumerate(members.tolist()):
            must = must_order[row][: int(musts[t])]
            nice = [i for i in nice_order[row] if i not in must]
            spare, nice = nice[int(size[t]) - len(must) :], nice[: int(size[t]) - len(must)]
            skills = []
            for j, i in enumerate(must):
                floor = (
                    int(product_level[t, j])
                    if it.technology[i]
                    else int(it.level[i]) - int(lowered[t, j])
                )
                skills.append(TaskSkill(it.ids[i], max(1, floor), float(it.weight[i]) + 1.0, True))
            skills += [
                TaskSkill(it.ids[i], int(it.level[i]), float(it.weight[i]), False) for i in nice
            ]
            requirements[t] = tuple(skills)
            learns[t] = (it.ids[spare[0]],) if names_learning[t] and spare else ()
    others = rng.choice(len(demand), size=len(wanted), p=demand)
    for k, need in enumerate(wanted):
        t = regular + k
        other = items.get(int(others[k])) or items[need.host]
        drawn = [i for i in _draw(rng, other.common, 1)[0].tolist() if other.ids[i] != need.skill]
        nice = drawn[: int(size[t]) - 1]
        wished = [
            TaskSkill(other.ids[i], int(other.level[i]), float(other.weight[i]), False)
            for i in nice
        ]
        requirements[t] = (TaskSkill(need.skill, 3, 2.0, True), *wished)
        seats[t], learning[t], hours[t], onsite[t], closed[t] = 1, 0, 8.0, False, False
        start[t], length[t] = int(rng.integers(0, 7)), int(rng.integers(70, 85))
    tasks = []
    for t in range(n):
        first = QUARTER_START + timedelta(days=int(start[t]))
        occupation = (
            occupations[int(task_occupation[t])]
            if t < regular
            else occupations[wanted[t - regular].host]
        )
        owner_id = worker_ids[int(owner[t])]
        if int(owner[t]) in holders:
            owner_id = "manager-of-experts"
        tasks.append(
            TaskRecord(
                id=f"t{t:06d}",
                owner_id=owner_id,
                skills=requirements[t],
                hours_per_week=float(hours[t]),
                start_date=first,
                end_date=min(quarter_end, first + timedelta(days=int(length[t]))),
                seats=int(seats[t]),
                learning_seats=int(learning[t]),
                kind=KINDS[int(kind[t])] if t < regular else "project",
                org_unit=ORG_UNITS[int(org_unit[t])],
                visibility="org_unit" if closed[t] else "company",
                remote=not onsite[t],
                location=LOCATIONS[int(location[t])] if onsite[t] else None,
                learning_skills=learns[t],
                title=f"{occupation.title}: task {t}",
            )
        )
    return tasks
