"""O*NET text release (a folder or its zip) read as the facts job deconstruction needs:
occupations, task statements, task → DWA → GWA links, skill ↔ GWA links, skill ratings and
technology skills. Pure: reads only the given files; no database, no clock."""

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from services.kernel.releases import read_text, release_files
from services.kernel.taxonomy_ids import product_ids

OCCUPATIONS = "Occupation Data.txt"
TASKS = "Task Statements.txt"
TASKS_TO_DWAS = "Tasks to DWAs.txt"
DWAS = "DWA Reference.txt"
SKILLS_TO_ACTIVITIES = "Skills to Work Activities.txt"
SKILLS = "Skills.txt"
TECHNOLOGY = "Technology Skills.txt"
RELATED = "Related Occupations.txt"
CONTENT_MODEL = "Content Model Reference.txt"
READ_ME = "Read Me.txt"

_MISSING = "n/a"
_EXAMPLES = 5
_VERSION_IN_READ_ME = re.compile(r"O\*NET\s+(\d+(?:\.\d+)+)\s+Database")

ATTRIBUTION = (
    "This product includes information from the O*NET {version} Database by the U.S. "
    "Department of Labor, Employment and Training Administration (USDOL/ETA). Used under the "
    "CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA. Taskforce has modified all or some "
    "of this information. USDOL/ETA has not approved, endorsed, or tested these modifications."
)


@dataclass(frozen=True)
class Occupation:
    code: str
    title: str
    description: str
    # Whose skill ratings stand for this occupation's: its own, else (O*NET rates only 879 of
    # 1,016 occupations) the most related occupation that is rated, else none.
    ratings_from: str | None = None


@dataclass(frozen=True)
class TaskStatement:
    occupation_code: str
    task_id: int
    text: str
    task_type: str | None  # "Core", "Supplemental", or None where O*NET says n/a


@dataclass(frozen=True)
class Dwa:
    """A Detailed Work Activity and the Generalised Work Activity (a `4.A.*` element) above it."""

    dwa_id: str
    title: str
    iwa_id: str
    gwa_id: str


@dataclass(frozen=True)
class SkillActivity:
    skill_element: str
    skill_name: str
    gwa_id: str
    gwa_name: str


@dataclass(frozen=True)
class SkillRating:
    """An occupation's rating of one skill: importance 1 to 5 (IM) and level 0 to 7 (LV); None
    when O*NET recommends suppressing the value or has none."""

    occupation_code: str
    element_id: str
    element_name: str
    importance: float | None
    level: float | None


@dataclass(frozen=True)
class Technology:
    occupation_code: str
    product: str
    product_id: str  # the kernel's product id, equal to the one profiles imported
    hot: bool
    listed_by: int  # how many occupations of the release list the product
    in_demand: bool = False  # asked for in this occupation's job postings


@dataclass
class JobRelease:
    version: str
    attribution: str
    occupations: list[Occupation]
    tasks: list[TaskStatement]
    task_dwas: list[tuple[str, int, str]]  # (occupation code, task id, DWA id)
    dwas: list[Dwa]
    skill_activities: list[SkillActivity]
    ratings: list[SkillRating]
    technologies: list[Technology]
    gwa_titles: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


_Files = dict[str, Callable[[], bytes]]
_Problems = dict[str, list[str]]


def read_job_release(path: Path) -> JobRelease:
    """Read everything deconstruction needs; the occupations and task statements must be there,
    the other files only add links (a warning says which are missing)."""
    problems: _Problems = defaultdict(list)
    with ExitStack() as stack:
        files = _find_files(Path(path), stack)
        version = _version(files, problems)
        ratings = _ratings(files, problems)
        occupations = _with_ratings_source(
            _occupations(files, problems), ratings, _related(files, problems)
        )
        tasks = _tasks(files, problems)
        task_dwas = [
            (row[0], int(row[1]), row[2])
            for row in _rows(
                files, TASKS_TO_DWAS, ("O*NET-SOC Code", "Task ID", "DWA ID"), problems
            )
            if all(row) and row[1].isdigit()
        ]
        dwas = [
            Dwa(dwa_id=row[2], title=row[3], iwa_id=row[1], gwa_id=row[0])
            for row in _rows(files, DWAS, ("Element ID", "IWA ID", "DWA ID", "DWA Title"), problems)
            if row[0] and row[2]
        ]
        skill_activities = [
            SkillActivity(*row)
            for row in _rows(
                files,
                SKILLS_TO_ACTIVITIES,
                (
                    "Skills Element ID",
                    "Skills Element Name",
                    "Work Activities Element ID",
                    "Work Activities Element Name",
                ),
                problems,
            )
            if row[0] and row[2]
        ]
        technologies = _technologies(files, problems)
        gwa_titles = {a.gwa_id: a.gwa_name for a in skill_activities}
        gwa_titles.update(
            (row[0], row[1])
            for row in _rows(files, CONTENT_MODEL, ("Element ID", "Element Name"), problems)
            if row[0].startswith("4.A.")
        )
    return JobRelease(
        version=version,
        attribution=ATTRIBUTION.format(version=version),
        occupations=occupations,
        tasks=tasks,
        task_dwas=task_dwas,
        dwas=dwas,
        skill_activities=skill_activities,
        ratings=ratings,
        technologies=technologies,
        gwa_titles=gwa_titles,
        warnings=_summaries(problems),
    )


def _find_files(path: Path, stack: ExitStack) -> _Files:
    """The release's files by name, from a folder (or the folder inside it) or a zip."""
    return release_files(path, OCCUPATIONS, stack, "an O*NET text release")[0]


def _version(files: _Files, problems: _Problems) -> str:
    if READ_ME in files and (
        match := _VERSION_IN_READ_ME.search(read_text(files, READ_ME, problems))
    ):
        return match.group(1)
    problems[f"version not found in {READ_ME!r}"].append("")
    return "unknown"


def _rows(
    files: _Files, name: str, columns: tuple[str, ...], problems: _Problems, required: bool = False
) -> Iterator[list[str]]:
    """The wanted columns of each row, in the order asked, `n/a` read as empty."""
    if name not in files:
        if required:
            raise ValueError(f"the O*NET release lacks {name!r}")
        problems["files absent (their links are left out)"].append(name)
        return
    reader = csv.reader(
        io.StringIO(read_text(files, name, problems), newline=""),
        delimiter="\t",
        quoting=csv.QUOTE_NONE,
    )
    header = [column.strip() for column in next(reader, [])]
    missing = [column for column in columns if column not in header]
    if missing:
        if required:
            raise ValueError(f"{name!r} lacks the columns {', '.join(missing)}")
        problems[f"files lacking expected columns, ignored: {name}"].append(", ".join(missing))
        return
    width = len(header)
    positions = [header.index(column) for column in columns]
    for row in reader:
        if not row:
            continue
        if len(row) != width:
            problems[f"rows with {width} fields expected, skipped, in {name}"].append(
                f"line {reader.line_num} has {len(row)}"
            )
            continue
        yield ["" if (value := row[at].strip()) == _MISSING else value for at in positions]


def _occupations(files: _Files, problems: _Problems) -> list[Occupation]:
    columns = ("O*NET-SOC Code", "Title", "Description")
    return [
        Occupation(code=code, title=title, description=description)
        for code, title, description in _rows(files, OCCUPATIONS, columns, problems, True)
        if code and title
    ]


def _tasks(files: _Files, problems: _Problems) -> list[TaskStatement]:
    columns = ("O*NET-SOC Code", "Task ID", "Task", "Task Type")
    tasks = []
    for code, task_id, text, task_type in _rows(files, TASKS, columns, problems, True):
        if not code or not task_id.isdigit() or not text:
            problems["task statements without a code, an id or a text, skipped"].append(
                f"{code} {task_id}".strip()
            )
            continue
        tasks.append(TaskStatement(code, int(task_id), text, task_type or None))
    return tasks


def _related(files: _Files, problems: _Problems) -> dict[str, list[str]]:
    """Each occupation's related occupations, most related first (O*NET's Index)."""
    columns = ("O*NET-SOC Code", "Related O*NET-SOC Code", "Index")
    ranked: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for code, related, index in _rows(files, RELATED, columns, problems):
        if code and related and index.isdigit():
            ranked[code].append((int(index), related))
    return {code: [related for _, related in sorted(pairs)] for code, pairs in ranked.items()}


def _with_ratings_source(
    occupations: list[Occupation], ratings: list[SkillRating], related: dict[str, list[str]]
) -> list[Occupation]:
    rated = {r.occupation_code for r in ratings if r.importance is not None}
    return [
        replace(
            o,
            ratings_from=o.code
            if o.code in rated
            else next((c for c in related.get(o.code, []) if c in rated), None),
        )
        for o in occupations
    ]


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _ratings(files: _Files, problems: _Problems) -> list[SkillRating]:
    columns = (
        "O*NET-SOC Code",
        "Element ID",
        "Element Name",
        "Scale ID",
        "Data Value",
        "Recommend Suppress",
        "Not Relevant",
    )
    scales: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    names: dict[str, str] = {}
    for code, element, name, scale, value, suppress, not_relevant in _rows(
        files, SKILLS, columns, problems
    ):
        if scale not in ("IM", "LV") or not code or not element:
            continue
        names.setdefault(element, name)
        # O*NET flags estimates too unreliable to use (Recommend Suppress) and levels of skills
        # the occupation does not use (Not Relevant); both count as no rating.
        usable = suppress != "Y" and not (scale == "LV" and not_relevant == "Y")
        scales[code, element][scale] = _number(value) if usable else None
    return [
        SkillRating(code, element, names[element], rated.get("IM"), rated.get("LV"))
        for (code, element), rated in scales.items()
    ]


def _technologies(files: _Files, problems: _Problems) -> list[Technology]:
    columns = ("O*NET-SOC Code", "Example", "Commodity Code", "Hot Technology", "In Demand")
    listed = [row for row in _rows(files, TECHNOLOGY, columns, problems) if row[1] and row[2]]
    # Ids over every product of the release (rows with a product and a commodity, as profiles
    # reads them), so a product's id here equals the skill id profiles imported.
    ids, _ = product_ids(row[1] for row in listed)
    flags: dict[tuple[str, str], tuple[bool, bool]] = {}
    for code, product, _, hot, in_demand in listed:
        if code:
            was_hot, was_in_demand = flags.get((code, product), (False, False))
            flags[code, product] = (was_hot or hot == "Y", was_in_demand or in_demand == "Y")
    listed_by = Counter(product for _, product in flags)
    return [
        Technology(code, product, ids[product], hot, listed_by[product], in_demand)
        for (code, product), (hot, in_demand) in flags.items()
    ]


def _summaries(problems: _Problems) -> list[str]:
    """One warning per kind of problem: its count and a few examples, not one per row."""
    summaries = []
    for kind, examples in problems.items():
        shown = [example for example in examples[:_EXAMPLES] if example]
        summaries.append(f"{kind}: {len(examples)} (e.g. {'; '.join(shown)})" if shown else kind)
    return summaries
