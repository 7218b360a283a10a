"""Skill normalisation benchmark on the real ESCO skills: hit@1 and hit@5 for alternative labels
as typed and with one typo, the time per 1,000 texts, and the index build time."""

import csv
import io
import os
import random
import string
import time
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.kernel.normalize import (
    MAX_BATCH,
    LabelIndex,
    SkillLabels,
    build_index,
    confident,
    normalize_many,
)

ESCO = (
    Path(os.environ["TASKFORCE_SHARED_DATA"]) / "esco"
    if os.environ.get("TASKFORCE_SHARED_DATA")
    else Path(__file__).resolve().parents[1].parent / "shared" / "data" / "esco"
)
ESCO_EN_ZIP = "ESCO dataset - v1.1.1 - classification - en - csv.zip"
SEED = 2026
SAMPLE = 2000
# The product's contract for normalisation, on the protocol below.
TARGET_HIT1, TARGET_HIT5, TARGET_TYPO_HIT5 = 0.97, 0.995, 0.90


def esco_available(folder: Path = ESCO) -> bool:
    return (folder / ESCO_EN_ZIP).is_file()


def load_esco(folder: Path = ESCO) -> list[SkillLabels]:
    """ESCO skills and skill groups as the importer reads them, or straight from the zip while
    the importer is not there."""
    try:
        from services.profiles.esco import read_esco
    except ImportError:
        return _read_zip(folder / ESCO_EN_ZIP)
    return [
        SkillLabels(r.id, r.label, r.alt_labels, r.skill_type) for r in read_esco([folder]).records
    ]


def _read_zip(path: Path) -> list[SkillLabels]:
    csv.field_size_limit(2**31 - 1)
    skills = []
    with zipfile.ZipFile(path) as archive:
        for member, skill_type in (("skills_en.csv", None), ("skillGroups_en.csv", "skill group")):
            with archive.open(member) as raw:
                for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")):
                    label = row["preferredLabel"].strip()
                    # ESCO repeats the preferred label among the alternative ones.
                    alts = dict.fromkeys(a.strip() for a in row["altLabels"].split("\n"))
                    alts.pop("", None)
                    alts.pop(label, None)
                    skills.append(
                        SkillLabels(
                            row["conceptUri"],
                            label,
                            tuple(alts),
                            skill_type or row["skillType"].strip() or None,
                        )
                    )
    return skills


@dataclass(frozen=True)
class Query:
    text: str
    owners: frozenset[str]  # every skill with this exact label, preferred or alternative


def sample_queries(skills: Sequence[SkillLabels], size: int = SAMPLE) -> list[Query]:
    """A seeded sample of alternative labels of skills (not groups), each with its owners."""
    owners: dict[str, set[str]] = defaultdict(set)
    for skill in skills:
        for label in (skill.label, *skill.alt_labels):
            owners[label].add(skill.id)
    labels = [
        label for skill in skills if skill.skill_type != "skill group" for label in skill.alt_labels
    ]
    picked = random.Random(SEED).sample(labels, size)
    return [Query(label, frozenset(owners[label])) for label in picked]


def with_typo(text: str, rng: random.Random) -> str:
    """One insertion, deletion, substitution or adjacent transposition of a random letter."""
    while True:
        kind = rng.choice(("insert", "delete", "substitute", "transpose"))
        at = rng.randrange(len(text) + (kind == "insert") - (kind == "transpose"))
        letter = rng.choice(string.ascii_lowercase)
        if kind == "insert":
            typo = text[:at] + letter + text[at:]
        elif kind == "delete":
            typo = text[:at] + text[at + 1 :]
        elif kind == "substitute":
            typo = text[:at] + letter + text[at + 1 :]
        else:
            typo = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
        if typo.casefold() != text.casefold():
            return typo


def typo_queries(queries: Sequence[Query]) -> list[Query]:
    rng = random.Random(SEED)
    return [Query(with_typo(q.text, rng), q.owners) for q in queries if len(q.text) >= 4]


# What people type, with the ESCO skills (preferred labels) a reviewer would accept: not part
# of the contract, a check that the ranking makes sense beyond ESCO's own wording.
_PYTHON, _JS = "Python (computer programming)", "JavaScript"
_LEAD = ("lead a team", "lead others", "manage a team", "leading and motivating")
PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("MS Excel", ("use spreadsheets software",)),
    ("Excel", ("use spreadsheets software",)),
    ("team leadership", (*_LEAD, "leadership principles")),
    ("Python programming", (_PYTHON,)),
    ("python", (_PYTHON,)),
    ("javascript", (_JS,)),
    ("project mgmt", ("project management", "perform project management")),
    ("java", ("Java (computer programming)",)),
    ("C++", ("C++",)),
    ("C#", ("C#",)),
    ("SQL", ("SQL",)),
    ("machine learning", ("machine learning", "utilise machine learning")),
    ("customer service", ("customer service",)),
    ("people management", (*_LEAD, "manage staff", "manage personnel")),
    (
        "stakeholder management",
        (
            "manage relationships with stakeholders",
            "engage with stakeholders",
            "communicate with stakeholders",
        ),
    ),
    ("teamwork", ("teamwork principles", "work in teams")),
    ("budgeting", ("manage budgets", "budgetary principles")),
    ("photoshop", ("Adobe Photoshop",)),
    ("powerpoint", ("use presentation software",)),
    ("Microsoft Word", ("use word processing software",)),
    ("problem solving", ("solve problems", "solving problems", "troubleshoot")),
    ("english", ("English",)),
    ("forklift", ("operate forklift",)),
    ("welding", ("join metals", "use welding equipment")),
    ("first aid", ("first aid", "provide first aid", "apply first response")),
    ("graphic design", ("graphic design",)),
    ("data analysis", ("statistics", "perform data analysis")),
    (
        "social media marketing",
        ("social media marketing techniques", "apply social media marketing"),
    ),
    ("copywriting", ("perform copywriting",)),
    ("bookkeeping", ("accounting",)),
    ("recruitment", ("recruit employees",)),
    ("cyber security", ("cyber security",)),
    ("cloud security", ("cloud security and compliance",)),
    ("AutoCAD", ("create AutoCAD drawings",)),
    ("pyhton", (_PYTHON,)),
    ("javscript", (_JS,)),
    ("proect management", ("project management",)),
    ("leadershp", (*_LEAD, "leadership principles")),
    ("custmer service", ("customer service",)),
    ("machne learning", ("machine learning", "utilise machine learning")),
    ("photshop", ("Adobe Photoshop",)),
)


def phrase_queries(skills: Sequence[SkillLabels]) -> list[Query]:
    ids: dict[str, set[str]] = defaultdict(set)
    for skill in skills:
        ids[skill.label].add(skill.id)
    return [
        Query(text, frozenset(i for label in accepted for i in ids[label]))
        for text, accepted in PHRASES
    ]


@dataclass(frozen=True)
class Score:
    hit1: float
    hit5: float
    confident: float  # share of texts whose first match may be accepted without a person
    confident_wrong: float  # share of those whose first match is not an owner
    seconds_per_1000: float
    misses: list[tuple[str, list[str]]]  # query, the first results' labels


def evaluate(index: LabelIndex, queries: Sequence[Query]) -> Score:
    started = time.perf_counter()
    texts = [q.text for q in queries]
    results = [
        matches
        for start in range(0, len(texts), MAX_BATCH)
        for matches in normalize_many(index, texts[start : start + MAX_BATCH], limit=5)
    ]
    elapsed = time.perf_counter() - started
    hit1 = hit5 = accepted = wrong = 0
    misses = []
    for query, matches in zip(queries, results, strict=True):
        ids = [m.skill_id for m in matches]
        hit1 += bool(ids) and ids[0] in query.owners
        if matches and confident(matches[0]):
            accepted += 1
            wrong += ids[0] not in query.owners
        if query.owners.intersection(ids):
            hit5 += 1
        else:
            misses.append((query.text, [f"{m.matched_label} {m.confidence:.2f}" for m in matches]))
    return Score(
        hit1 / len(queries),
        hit5 / len(queries),
        accepted / len(queries),
        wrong / max(accepted, 1),
        elapsed * 1000 / len(queries),
        misses,
    )


def run() -> list[tuple[str, str]]:
    if not esco_available():
        return [("ESCO data", f"absent under {ESCO}: skipped")]
    skills = load_esco()
    started = time.perf_counter()
    index = build_index(skills)
    build_s = time.perf_counter() - started
    queries = sample_queries(skills)
    typos = typo_queries(queries)
    exact, typo = evaluate(index, queries), evaluate(index, typos)
    phrases = evaluate(index, phrase_queries(skills))
    return [
        ("skills and groups indexed", f"{len(index)} ({len(index.keys)} distinct labels)"),
        ("index build (s)", f"{build_s:.2f}"),
        ("alt labels: queries", f"{len(queries)} (seed {SEED})"),
        ("alt labels: hit@1 / hit@5", f"{exact.hit1:.2%} / {exact.hit5:.2%}"),
        ("alt labels: time per 1,000 texts (s)", f"{exact.seconds_per_1000:.2f}"),
        ("one typo: queries", f"{len(typos)}"),
        ("one typo: hit@1 / hit@5", f"{typo.hit1:.2%} / {typo.hit5:.2%}"),
        (
            "one typo: first match confident / of those wrong",
            f"{typo.confident:.1%} / {typo.confident_wrong:.1%}",
        ),
        ("one typo: time per 1,000 texts (s)", f"{typo.seconds_per_1000:.2f}"),
        (
            f"typed phrases ({len(PHRASES)}, informative): hit@1 / hit@5",
            f"{phrases.hit1:.0%} / {phrases.hit5:.0%}",
        ),
        (
            "targets hit@1 / hit@5 / typo hit@5",
            f"{TARGET_HIT1:.0%} / {TARGET_HIT5:.1%} / {TARGET_TYPO_HIT5:.0%}",
        ),
    ]
