"""ESCO importer: the official CSV zips (classification and relations) as a taxonomy Release.
Pure: reads only the files it is given; no database, no network, no clock."""

import csv
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

from services.profiles.taxonomy import Release, SkillRecord

SOURCE = "esco"

SKILLS = "skills_en.csv"
GROUPS = "skillGroups_en.csv"
HIERARCHY = "skillsHierarchy_en.csv"
BROADER = "broaderRelationsSkillPillar.csv"
RELATED = "skillSkillRelations.csv"
_WANTED = (SKILLS, GROUPS, HIERARCHY, BROADER, RELATED)

# Member dates of releases checked against the official downloads; the file name is asked
# first, this only rescues a renamed zip.
_RELEASE_OF_MEMBER_DATE = {"2022-09-13": "1.1.1"}
_VERSION_IN_NAME = re.compile(r"v(\d+(?:\.\d+)+)", re.IGNORECASE)
_EXAMPLES = 5

ATTRIBUTION = (
    "Contains data from ESCO v{version} (European Skills, Competences, Qualifications and "
    "Occupations), © European Union, https://esco.ec.europa.eu. Taskforce has modified the "
    "presentation of this data."
)

_Member = tuple[Path, zipfile.ZipFile, zipfile.ZipInfo]
_Problems = dict[str, list[str]]


def read_esco(paths: Sequence[Path]) -> Release:
    """Read skills, skill groups, broader and related links from ESCO zips or a folder of them."""
    if isinstance(paths, str | Path):
        paths = [Path(paths)]
    # ESCO's conceptSchemes_en.csv has fields longer than the csv module's default limit;
    # 2**31 - 1 is the largest value every platform's C long accepts.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    problems: _Problems = defaultdict(list)
    with ExitStack() as stack:
        members = _find_members([Path(p) for p in paths], stack, problems)
        if SKILLS not in members:
            raise ValueError(
                f"no {SKILLS} in {', '.join(str(p) for p in paths)}: pass the ESCO "
                "classification zip (English, CSV), or a folder holding it"
            )
        version = _version(members, problems)
        fields: dict[str, dict[str, Any]] = {}
        _read_skills(members[SKILLS], fields, problems)
        if GROUPS in members:
            _read_groups(members[GROUPS], fields, problems)
        else:
            problems[f"{GROUPS} absent: skill groups left out"].append("")
        broader = _read_broader(members, fields, problems)
        related = _read_related(members, fields, problems)

    for uri, types in related.items():
        fields[uri]["attributes"].setdefault("related_types", {}).update(types)
    records = [
        SkillRecord(
            id=uri,
            source=SOURCE,
            source_version=version,
            broader=tuple(broader.get(uri, ())),
            related=tuple(related.get(uri, ())),
            **kwargs,
        )
        for uri, kwargs in fields.items()
    ]
    return Release(
        source=SOURCE,
        version=version,
        records=records,
        warnings=_summaries(problems),
        attribution=ATTRIBUTION.format(version=version),
    )


def _find_members(paths: list[Path], stack: ExitStack, problems: _Problems) -> dict[str, _Member]:
    # Zips are recognised by what they hold: ESCO's own names differ by one space only.
    zips: list[Path] = []
    for path in paths:
        if path.is_dir():
            zips.extend(p for p in sorted(path.iterdir()) if p.is_file() and zipfile.is_zipfile(p))
        elif zipfile.is_zipfile(path):
            zips.append(path)
        else:
            raise ValueError(
                f"{path} is not a zip file" if path.exists() else f"{path} does not exist"
            )
    members: dict[str, _Member] = {}
    for path in zips:
        archive = stack.enter_context(zipfile.ZipFile(path))
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if name not in _WANTED:
                continue
            if name in members:
                problems["members found in more than one zip (the first was used)"].append(
                    f"{name} in {path.name}"
                )
                continue
            members[name] = (path, archive, info)
    return members


def _version(members: dict[str, _Member], problems: _Problems) -> str:
    named = {
        match.group(1)
        for path, _, _ in members.values()
        if (match := _VERSION_IN_NAME.search(path.name))
    }
    skills_zip = members[SKILLS][0]
    if match := _VERSION_IN_NAME.search(skills_zip.name):
        if len(named) > 1:
            problems["zips of different ESCO versions mixed"].append(", ".join(sorted(named)))
        return match.group(1)
    year, month, day = members[SKILLS][2].date_time[:3]
    dated = f"{year:04d}-{month:02d}-{day:02d}"
    if dated in _RELEASE_OF_MEMBER_DATE:
        return _RELEASE_OF_MEMBER_DATE[dated]
    problems["version neither in the file name nor known by date; the member date was used"].append(
        dated
    )
    return dated


def _rows(
    member: _Member, problems: _Problems, required: tuple[str, ...], ragged: bool = False
) -> list[dict[str, str]]:
    """The member's rows as dicts; rows of the wrong width are skipped and reported, and so is
    a member lacking a required column."""
    _, archive, info = member
    raw = archive.read(info)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems["members that are not valid UTF-8 (bad bytes replaced)"].append(info.filename)
        text = raw.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        problems["empty or unreadable members"].append(info.filename)
        return []
    missing = [column for column in required if column not in header]
    if missing:
        problems["members lacking required columns, ignored"].append(
            f"{info.filename}: {', '.join(missing)}"
        )
        return []
    width = len(header)
    rows: list[dict[str, str]] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as error:
            problems[f"unreadable rows skipped in {info.filename}"].append(
                f"line {reader.line_num}: {error}"
            )
            continue
        if not row:
            continue
        # skillsHierarchy_en.csv omits trailing empty fields; elsewhere a short row is broken.
        if ragged and len(row) < width:
            row += [""] * (width - len(row))
        if len(row) != width:
            problems[f"rows with {width} fields expected, skipped, in {info.filename}"].append(
                f"line {reader.line_num} has {len(row)}"
            )
            continue
        rows.append(dict(zip(header, row, strict=True)))


def _alt_labels(cell: str, preferred: str) -> tuple[str, ...]:
    labels = dict.fromkeys(label.strip() for label in cell.split("\n"))
    labels.pop("", None)
    labels.pop(preferred, None)
    return tuple(labels)


def _read_skills(member: _Member, fields: dict[str, dict[str, Any]], problems: _Problems) -> None:
    rows = _rows(member, problems, ("conceptUri", "preferredLabel"))
    if not rows:
        raise ValueError(f"{SKILLS} in {member[0]} holds no readable skills")
    for row in rows:
        uri, label = row.get("conceptUri", "").strip(), row.get("preferredLabel", "").strip()
        if not uri or not label:
            problems[f"skills without a URI or a label, skipped, in {SKILLS}"].append(
                uri or label or "(blank)"
            )
            continue
        if uri in fields:
            problems["duplicate concept URIs (the first row was kept)"].append(uri)
            continue
        skill_type = row.get("skillType", "").strip() or None
        if skill_type is None:
            problems["skills with an empty skillType (kept, without a type)"].append(uri)
        fields[uri] = {
            "label": label,
            "alt_labels": _alt_labels(row.get("altLabels", ""), label),
            "skill_type": skill_type,
            "description": (row.get("description") or row.get("definition") or "").strip(),
            "attributes": {
                "reuse_level": row.get("reuseLevel", "").strip() or None,
                "concept_type": row.get("conceptType", "").strip() or None,
                "status": row.get("status", "").strip() or None,
                "related_types": {},
            },
        }


def _read_groups(member: _Member, fields: dict[str, dict[str, Any]], problems: _Problems) -> None:
    for row in _rows(member, problems, ("conceptUri", "preferredLabel")):
        uri, label = row.get("conceptUri", "").strip(), row.get("preferredLabel", "").strip()
        if not uri or not label:
            problems[f"skill groups without a URI or a label, skipped, in {GROUPS}"].append(
                uri or label or "(blank)"
            )
            continue
        if uri in fields:
            problems["duplicate concept URIs (the first row was kept)"].append(uri)
            continue
        fields[uri] = {
            "label": label,
            "alt_labels": _alt_labels(row.get("altLabels", ""), label),
            "skill_type": "skill group",
            "description": row.get("description", "").strip(),
            "attributes": {
                "code": row.get("code", "").strip() or None,
                "concept_type": row.get("conceptType", "").strip() or None,
                "status": row.get("status", "").strip() or None,
            },
        }


def _read_broader(
    members: dict[str, _Member], fields: dict[str, dict[str, Any]], problems: _Problems
) -> dict[str, dict[str, None]]:
    pairs: list[tuple[str, str]] = []
    if BROADER in members:
        pairs = [
            (row["conceptUri"].strip(), row["broaderUri"].strip())
            for row in _rows(members[BROADER], problems, ("conceptUri", "broaderUri"))
        ]
    elif HIERARCHY in members:
        problems[
            f"relations zip absent: broader links of skill groups only, from {HIERARCHY}; "
            "skills have no broader links"
        ].append("")
        levels = [f"Level {level} URI" for level in range(4)]
        for row in _rows(members[HIERARCHY], problems, tuple(levels), ragged=True):
            chain = [row.get(column, "").strip() for column in levels]
            pairs.extend((child, parent) for parent, child in pairwise(chain) if parent and child)
    else:
        problems[f"neither {BROADER} nor {HIERARCHY} found: no broader links"].append("")
    broader: dict[str, dict[str, None]] = defaultdict(dict)
    # The hierarchy file repeats every ancestor chain, so each pair is judged once.
    for narrower, wider in dict.fromkeys(pairs):
        if narrower == wider:
            problems["broader links of a concept to itself, dropped"].append(narrower)
            continue
        if narrower not in fields or wider not in fields:
            problems["broader links to or from concepts not in this release, dropped"].append(
                f"{narrower} → {wider}"
            )
            continue
        broader[narrower][wider] = None
    return broader


def _read_related(
    members: dict[str, _Member], fields: dict[str, dict[str, Any]], problems: _Problems
) -> dict[str, dict[str, str]]:
    related: dict[str, dict[str, str]] = defaultdict(dict)
    if RELATED not in members:
        problems[f"{RELATED} absent (relations zip): no related skills"].append("")
        return related
    for row in _rows(members[RELATED], problems, ("originalSkillUri", "relatedSkillUri")):
        original = row.get("originalSkillUri", "").strip()
        other = row.get("relatedSkillUri", "").strip()
        if original == other:
            problems["related links of a skill to itself, dropped"].append(original)
            continue
        if original not in fields or other not in fields:
            problems["related links to or from skills not in this release, dropped"].append(
                f"{original} → {other}"
            )
            continue
        relation = row.get("relationType", "").strip()
        if not relation:
            problems["related links without a relationType (kept as optional)"].append(
                f"{original} → {other}"
            )
            relation = "optional"
        # A pair listed twice keeps the stronger of its types.
        if related[original].get(other) != "essential":
            related[original][other] = relation
    return related


def _summaries(problems: _Problems) -> list[str]:
    """One warning per kind of problem: its count and a few examples, not one per row."""
    summaries = []
    for kind, examples in problems.items():
        shown = [example for example in examples[:_EXAMPLES] if example]
        summaries.append(f"{kind}: {len(examples)} (e.g. {'; '.join(shown)})" if shown else kind)
    return summaries
