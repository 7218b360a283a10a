"""O*NET importer: the text release (a folder or its zip) as a taxonomy Release of skills,
knowledge areas and technology products. Pure: reads only the given files; no database, no clock."""

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from services.kernel.releases import read_text, release_files
from services.kernel.taxonomy_ids import commodity_id, element_id, product_ids
from services.profiles.taxonomy import Release, SkillRecord

SOURCE = "onet"

CONTENT_MODEL = "Content Model Reference.txt"
SKILLS = "Skills.txt"
KNOWLEDGE = "Knowledge.txt"
TECHNOLOGY = "Technology Skills.txt"
READ_ME = "Read Me.txt"

# Content Model branches: 2.A Basic and 2.B Cross-Functional skills, 2.C Knowledge.
_KINDS = (
    ("onet skill", ("2.A.", "2.B."), SKILLS),
    ("onet knowledge", ("2.C.",), KNOWLEDGE),
)
_MISSING = "n/a"
_EXAMPLES = 5
_VERSION_IN_READ_ME = re.compile(r"O\*NET\s+(\d+(?:\.\d+)+)\s+Database")
_VERSION_IN_NAME = re.compile(r"(\d+)[._](\d+)")

ATTRIBUTION = (
    "This product includes information from the O*NET {version} Database by the U.S. "
    "Department of Labor, Employment and Training Administration (USDOL/ETA). Used under the "
    "CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA. Taskforce has modified all or some "
    "of this information. USDOL/ETA has not approved, endorsed, or tested these modifications."
)

_Files = dict[str, Callable[[], bytes]]
_Problems = dict[str, list[str]]


def read_onet(path: Path) -> Release:
    """Read the skills, knowledge areas, their categories and the technology products."""
    path = Path(path)
    problems: _Problems = defaultdict(list)
    with ExitStack() as stack:
        files, release_name = _find_files(path, stack)
        version = _version(files, release_name, problems)
        elements = _read_elements(files, problems)
        records = _element_records(files, elements, version, problems)
        records += _technology_records(files, version, problems)
    return Release(
        source=SOURCE,
        version=version,
        records=records,
        warnings=_summaries(problems),
        attribution=ATTRIBUTION.format(version=version),
    )


def _find_files(path: Path, stack: ExitStack) -> tuple[_Files, str]:
    """The release's files by name, and the name of the folder (or zip) that holds them."""
    return release_files(path, CONTENT_MODEL, stack, "an O*NET text release")


def _version(files: _Files, release_name: str, problems: _Problems) -> str:
    if READ_ME in files and (
        match := _VERSION_IN_READ_ME.search(read_text(files, READ_ME, problems))
    ):
        return match.group(1)
    if match := _VERSION_IN_NAME.search(release_name):
        problems[f"version not found in {READ_ME!r}; taken from the folder name"].append(
            release_name
        )
        return f"{match.group(1)}.{match.group(2)}"
    problems[f"version found neither in {READ_ME!r} nor in the folder name"].append(release_name)
    return "unknown"


def _rows(
    files: _Files, name: str, columns: tuple[str, ...], problems: _Problems
) -> list[dict[str, str]] | None:
    """The file's rows as dicts of the wanted columns, `n/a` read as empty; None if absent."""
    if name not in files:
        return None
    reader = csv.reader(
        io.StringIO(read_text(files, name, problems), newline=""),
        delimiter="\t",
        quoting=csv.QUOTE_NONE,
    )
    header = next(reader, [])
    missing = [column for column in columns if column not in header]
    if missing:
        problems[f"files lacking expected columns, ignored: {name}"].append(", ".join(missing))
        return None
    width = len(header)
    positions = [(column, header.index(column)) for column in columns]
    rows = []
    for row in reader:
        if not row:
            continue
        if len(row) != width:
            problems[f"rows with {width} fields expected, skipped, in {name}"].append(
                f"line {reader.line_num} has {len(row)}"
            )
            continue
        rows.append(
            {
                column: "" if row[at].strip() == _MISSING else row[at].strip()
                for column, at in positions
            }
        )
    return rows


def _read_elements(files: _Files, problems: _Problems) -> dict[str, tuple[str, str]]:
    rows = _rows(files, CONTENT_MODEL, ("Element ID", "Element Name", "Description"), problems)
    if rows is None:
        raise ValueError(f"{CONTENT_MODEL!r} lacks its Element ID, Element Name or Description")
    elements: dict[str, tuple[str, str]] = {}
    for row in rows:
        if not row["Element ID"] or not row["Element Name"]:
            problems[f"elements without an id or a name, skipped, in {CONTENT_MODEL}"].append(
                row["Element ID"] or row["Element Name"] or "(blank)"
            )
            continue
        elements.setdefault(row["Element ID"], (row["Element Name"], row["Description"]))
    return elements


def _parent(element: str) -> str | None:
    # Categories stop at the branch (2.A, 2.B, 2.C): "2" (Worker Requirements) also holds
    # education and experience, which are not skills.
    parent = element.rsplit(".", 1)[0]
    return parent if parent != element and "." in parent else None


def _element_records(
    files: _Files, elements: dict[str, tuple[str, str]], version: str, problems: _Problems
) -> list[SkillRecord]:
    has_children = {element.rsplit(".", 1)[0] for element in elements}
    chosen: dict[str, str] = {}
    for skill_type, prefixes, ratings_file in _KINDS:
        in_range = [e for e in elements if e.startswith(prefixes) and e not in has_children]
        rows = _rows(files, ratings_file, ("Element ID",), problems)
        if rows is None:
            problems[
                f"{ratings_file} absent or unreadable: every {skill_type} of the model kept"
            ].append("")
            chosen.update(dict.fromkeys(in_range, skill_type))
            continue
        rated = {row["Element ID"] for row in rows}
        chosen.update((e, skill_type) for e in in_range if e in rated)
        unrated = [e for e in in_range if e not in rated]
        if unrated:
            problems[f"content model elements not rated in {ratings_file}, left out"].extend(
                unrated
            )
        unknown = sorted(rated - set(in_range))
        if unknown:
            problems[f"elements of {ratings_file} not leaves of its content model range"].extend(
                unknown
            )

    categories = set()
    for element in chosen:
        parent = _parent(element)
        while parent is not None:
            categories.add(parent)
            parent = _parent(parent)
    records = []
    # Content model order puts every category before its members.
    for element, (name, description) in elements.items():
        if element not in chosen and element not in categories:
            continue
        parent = _parent(element)
        if parent is not None and parent not in elements:
            problems["elements whose parent is not in the content model"].append(element)
            parent = None
        records.append(
            SkillRecord(
                id=element_id(element),
                label=name,
                source=SOURCE,
                source_version=version,
                skill_type=chosen.get(element, "onet category"),
                description=description,
                broader=(element_id(parent),) if parent else (),
                attributes={"element_id": element},
            )
        )
    return records


def _technology_records(files: _Files, version: str, problems: _Problems) -> list[SkillRecord]:
    columns = (
        "O*NET-SOC Code",
        "Example",
        "Commodity Code",
        "Commodity Title",
        "Hot Technology",
        "In Demand",
    )
    rows = _rows(files, TECHNOLOGY, columns, problems)
    if rows is None:
        problems[f"{TECHNOLOGY} absent: no technology products"].append("")
        return []
    titles: dict[str, Counter[str]] = defaultdict(Counter)
    commodities: dict[str, Counter[str]] = defaultdict(Counter)
    occupations: dict[str, set[str]] = defaultdict(set)
    hot: dict[str, bool] = defaultdict(bool)
    in_demand: dict[str, bool] = defaultdict(bool)
    for row in rows:
        product, code = row["Example"], row["Commodity Code"]
        if not product or not code:
            problems[
                f"rows without a product or a commodity code, skipped, in {TECHNOLOGY}"
            ].append(f"{row['O*NET-SOC Code']} {product or code}".strip())
            continue
        titles[code][row["Commodity Title"]] += 1
        commodities[product][code] += 1
        if row["O*NET-SOC Code"]:
            occupations[product].add(row["O*NET-SOC Code"])
        # A product is hot (in demand) if any occupation's listing says so.
        hot[product] |= row["Hot Technology"] == "Y"
        in_demand[product] |= row["In Demand"] == "Y"

    records = []
    for code in sorted(titles):
        title, _ = titles[code].most_common(1)[0]
        if len(titles[code]) > 1:
            problems["commodities listed under several titles (the most used was kept)"].append(
                f"{code}: {', '.join(sorted(titles[code]))}"
            )
        records.append(
            SkillRecord(
                id=commodity_id(code),
                label=title or code,
                source=SOURCE,
                source_version=version,
                skill_type="technology category",
                attributes={"commodity_code": code},
            )
        )
    ids = _product_ids(sorted(commodities), problems)
    for product in sorted(commodities):
        # A product filed under several commodities belongs to each; the most listed leads.
        codes = [code for code, _ in sorted(commodities[product].items(), key=_most_then_code)]
        records.append(
            SkillRecord(
                id=ids[product],
                label=product,
                source=SOURCE,
                source_version=version,
                skill_type="technology",
                broader=tuple(commodity_id(code) for code in codes),
                attributes={
                    "hot_technology": hot[product],
                    "in_demand": in_demand[product],
                    "commodity_code": codes[0],
                    "commodity_codes": codes,
                    "occupation_count": len(occupations[product]),
                },
            )
        )
    return records


def _most_then_code(item: tuple[str, int]) -> tuple[int, str]:
    code, count = item
    return -count, code


def _product_ids(products: list[str], problems: _Problems) -> dict[str, str]:
    ids, collisions = product_ids(products)
    if collisions:
        problems["technology names whose slug collides (a hash suffix was added)"].extend(
            collisions
        )
    return ids


def _summaries(problems: _Problems) -> list[str]:
    """One warning per kind of problem: its count and a few examples, not one per row."""
    summaries = []
    for kind, examples in problems.items():
        shown = [example for example in examples[:_EXAMPLES] if example]
        summaries.append(f"{kind}: {len(examples)} (e.g. {'; '.join(shown)})" if shown else kind)
    return summaries
