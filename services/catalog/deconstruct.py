"""Job deconstruction: an occupation's O*NET facts (or a described job's task texts) turned
into draft tasks with required skills, each requirement saying where it came from. Pure: no
database, no clock."""

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from services.catalog.onet import (
    Dwa,
    JobRelease,
    Occupation,
    SkillRating,
    TaskStatement,
    Technology,
)
from services.kernel.normalize import LabelIndex, confident
from services.kernel.normalize import normalize as normalize_text
from services.kernel.taxonomy_ids import element_id

# A skill becomes a task's requirement when the occupation rates its importance at least
# "Important" (3 on O*NET's 1 to 5 scale).
MIN_IMPORTANCE = 3.0
# The occupation's hot technologies become nice-to-haves of every task; only five, so that
# twenty products do not drown the task's real skills: those its job postings ask for
# (O*NET's In Demand) first, then the most widely listed.
HOT_TECHNOLOGIES = 5
# A skill rated important whose level O*NET suppressed gets the middle of our scale.
UNRATED_LEVEL = 3
# Nice-to-have technologies and described-job matches carry no rated level.
TECHNOLOGY_LEVEL = 1
DESCRIBED_LEVEL = 2
# A described job's match this sure is a must-have; less sure matches are nice-to-haves.
REQUIRED_CONFIDENCE = 0.8
TITLE_LENGTH = 200
HOT_TECHNOLOGY = "hot technology"
TASK_LINKS = "task links"
TEXT_MATCH = "text match"


def level_of(onet_level: float | None) -> int:
    """O*NET's Level scale (0 to 7) onto ours (1 to 5): 1 + LV * 4/7, rounded half up and
    clamped, so LV 0 → 1, 3.5 → 3, 7 → 5; an unrated level → UNRATED_LEVEL."""
    if onet_level is None:
        return UNRATED_LEVEL
    return max(1, min(5, math.floor(1 + onet_level * 4 / 7 + 0.5)))


@dataclass(frozen=True)
class Path:
    """One way a skill reached a task: the task's DWA and the GWA that links it to the skill."""

    dwa: str
    gwa: str


@dataclass
class Requirement:
    skill_id: str
    label: str
    min_level: int
    weight: float
    required: bool
    source: str  # TASK_LINKS, HOT_TECHNOLOGY or TEXT_MATCH
    paths: list[Path] = field(default_factory=list)
    importance: float | None = None
    onet_level: float | None = None
    rated_by: str | None = None  # the occupation whose ratings gave importance and level
    confidence: float | None = None

    def skill(self) -> dict[str, object]:
        """The requirement as a task's required skill."""
        return {
            "skill_id": self.skill_id,
            "min_level": self.min_level,
            "weight": self.weight,
            "required": self.required,
        }

    def provenance(self) -> dict[str, object]:
        return {
            "skill_id": self.skill_id,
            "label": self.label,
            "source": self.source,
            "paths": [{"dwa": p.dwa, "gwa": p.gwa} for p in self.paths],
            "importance": self.importance,
            "onet_level": self.onet_level,
            "rated_by": self.rated_by,
            "confidence": self.confidence,
        }


@dataclass
class DraftTask:
    title: str
    description: str
    requirements: list[Requirement]
    source_task_id: int | None = None
    task_type: str | None = None

    @property
    def has_no_skill(self) -> bool:
        """No must-have could be derived: the owner has to add skills before staffing it."""
        return not any(r.required for r in self.requirements)


@dataclass
class OccupationFacts:
    """What one occupation needs from the release, already joined by id."""

    occupation: Occupation
    tasks: list[TaskStatement]
    dwas_of_task: dict[int, list[Dwa]]
    gwa_titles: dict[str, str]
    skills_of_gwa: dict[str, list[tuple[str, str]]]  # GWA element → [(skill element, name)]
    ratings: dict[str, SkillRating]  # skill element → its rating (see ratings_from)
    technologies: list[Technology]


def occupation_facts(release: JobRelease, code: str) -> OccupationFacts:
    """One occupation's facts straight from a parsed release (the catalog stores the same
    facts in its tables and loads them back in jobs.py)."""
    occupation = next((o for o in release.occupations if o.code == code), None)
    if occupation is None:
        raise KeyError(code)
    dwas = {dwa.dwa_id: dwa for dwa in release.dwas}
    dwas_of_task: dict[int, list[Dwa]] = {}
    for occupation_code, task_id, dwa_id in sorted(set(release.task_dwas)):
        if occupation_code == code and dwa_id in dwas:
            dwas_of_task.setdefault(task_id, []).append(dwas[dwa_id])
    skills_of_gwa: dict[str, list[tuple[str, str]]] = {}
    for link in release.skill_activities:
        skills_of_gwa.setdefault(link.gwa_id, []).append((link.skill_element, link.skill_name))
    return OccupationFacts(
        occupation=occupation,
        tasks=[t for t in release.tasks if t.occupation_code == code],
        dwas_of_task=dwas_of_task,
        gwa_titles=release.gwa_titles,
        skills_of_gwa=skills_of_gwa,
        ratings={
            r.element_id: r for r in release.ratings if r.occupation_code == occupation.ratings_from
        },
        technologies=[t for t in release.technologies if t.occupation_code == code],
    )


def title_of(text: str) -> str:
    """A task statement as a title: whole when it fits, else cut at a word with an ellipsis."""
    if len(text) <= TITLE_LENGTH:
        return text
    return text[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def deconstruct_occupation(
    facts: OccupationFacts, include_supplemental: bool = False
) -> list[DraftTask]:
    """One draft per core task statement (and supplemental ones on request; a statement O*NET
    left untyped counts as core), in O*NET's task id order."""
    wanted = {"Core", None} | ({"Supplemental"} if include_supplemental else set())
    hot = hot_technologies(facts.technologies)
    drafts = []
    for statement in sorted(facts.tasks, key=lambda t: t.task_id):
        if statement.task_type not in wanted:
            continue
        requirements = _linked_skills(facts, statement) + [
            Requirement(
                skill_id=tech.product_id,
                label=tech.product,
                min_level=TECHNOLOGY_LEVEL,
                weight=1.0,
                required=False,
                source=HOT_TECHNOLOGY,
            )
            for tech in hot
        ]
        drafts.append(
            DraftTask(
                title=title_of(statement.text),
                description=statement.text,
                requirements=requirements,
                source_task_id=statement.task_id,
                task_type=statement.task_type,
            )
        )
    return drafts


def hot_technologies(technologies: Sequence[Technology]) -> list[Technology]:
    """The occupation's hot technologies: in demand first, then listed by the most
    occupations, then by name."""
    hot = [tech for tech in technologies if tech.hot]
    ranked = sorted(hot, key=lambda t: (not t.in_demand, -t.listed_by, t.product))
    return ranked[:HOT_TECHNOLOGIES]


def _linked_skills(facts: OccupationFacts, statement: TaskStatement) -> list[Requirement]:
    """Task → DWAs → GWAs → skills, kept where the occupation rates the skill important (or,
    for an occupation O*NET did not rate, the most related occupation that it did)."""
    found: dict[str, Requirement] = {}
    for dwa in facts.dwas_of_task.get(statement.task_id, []):
        gwa_title = facts.gwa_titles.get(dwa.gwa_id, dwa.gwa_id)
        for skill, name in facts.skills_of_gwa.get(dwa.gwa_id, []):
            rating = facts.ratings.get(skill)
            if rating is None or rating.importance is None:
                continue
            if rating.importance < MIN_IMPORTANCE:
                continue
            requirement = found.get(skill)
            if requirement is None:
                requirement = found[skill] = Requirement(
                    skill_id=element_id(skill),
                    label=rating.element_name or name,
                    min_level=level_of(rating.level),
                    weight=round(rating.importance, 2),
                    required=True,
                    source=TASK_LINKS,
                    importance=rating.importance,
                    onet_level=rating.level,
                    rated_by=rating.occupation_code,
                )
            path = Path(dwa=dwa.title, gwa=gwa_title)
            if path not in requirement.paths:
                requirement.paths.append(path)
    return sorted(found.values(), key=lambda r: (-r.weight, -r.min_level, r.skill_id))


Match = tuple[str, str, float]  # (skill id, label, confidence 0 to 1)
Normalizer = Callable[[list[str]], list[list[Match]]]


def deconstruct_described(
    title: str, task_texts: list[str], normalizer: Normalizer
) -> list[DraftTask]:
    """A described job: each task text becomes a draft whose skills are the normaliser's
    matches (sure ones as must-haves, the rest nice-to-have), each saying how sure it is.
    The normaliser is the caller's (profiles owns it; the catalog may not import it)."""
    texts = [text.strip() for text in task_texts if text.strip()]
    drafts = []
    for text, matches in zip(texts, normalizer(texts), strict=True):
        best: dict[str, Requirement] = {}
        for skill_id, label, confidence in matches:
            if skill_id in best and (best[skill_id].confidence or 0) >= confidence:
                continue
            best[skill_id] = Requirement(
                skill_id=skill_id,
                label=label,
                min_level=DESCRIBED_LEVEL,
                weight=1.0,
                required=confidence >= REQUIRED_CONFIDENCE,
                source=TEXT_MATCH,
                confidence=round(confidence, 3),
            )
        drafts.append(
            DraftTask(
                title=title_of(text),
                description=f"{title}: {text}",
                requirements=sorted(
                    best.values(), key=lambda r: (-(r.confidence or 0), r.skill_id)
                ),
            )
        )
    return drafts


# Phrases of a task text are looked up in the taxonomy with the same normalisation profiles
# uses (preferred and alternative labels, then fuzzy); a phrase needs confidence to count.
LONGEST_PHRASE_WORDS = 5
SHORTEST_PHRASE = 3
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#.]*[A-Za-z0-9+#]|[A-Za-z0-9]")


def phrase_normalizer(index: LabelIndex) -> Normalizer:
    """Skills named in free text: every phrase of up to five words is normalised against the
    label index; a match counts when it is confident (an exact label, or a near one for
    phrases of two words or more), and the longest phrase naming a skill wins. Phrases
    shorter than three characters ("C", "R") match too much ordinary text to count."""

    def normalize(texts: list[str]) -> list[list[Match]]:
        results = []
        for text in texts:
            words = _WORD.findall(text)
            found: dict[str, Match] = {}
            for size in range(min(LONGEST_PHRASE_WORDS, len(words)), 0, -1):
                for start in range(len(words) - size + 1):
                    phrase = " ".join(words[start : start + size])
                    if len(phrase) < SHORTEST_PHRASE:
                        continue
                    for match in normalize_text(index, phrase, limit=3):
                        exact = match.confidence >= 1.0
                        if (exact or (size > 1 and confident(match))) and (
                            match.skill_id not in found
                        ):
                            found[match.skill_id] = (
                                match.skill_id,
                                match.label,
                                round(match.confidence, 3),
                            )
            results.append(list(found.values()))
        return results

    return normalize
