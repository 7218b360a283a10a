"""A taxonomy release as plain records: what the importers (esco.py, onet.py) produce and the
import use case stores. Pure: no database, no I/O."""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SkillRecord:
    """One skill (or grouping node) of a release, keyed by a stable URI."""

    id: str
    label: str
    source: str  # "esco", "onet", "taskforce"
    source_version: str  # e.g. "1.1.1", "29.2"
    alt_labels: tuple[str, ...] = ()
    skill_type: str | None = None  # e.g. "skill/competence", "knowledge", "skill group",
    #                                "onet skill", "onet knowledge", "technology"
    description: str = ""
    broader: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    # Source-specific facts worth keeping: ESCO reuseLevel, O*NET element id, hot technology…
    attributes: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        """Fingerprint of everything but the id: re-importing an unchanged record is a no-op."""
        body = json.dumps(
            [
                self.label,
                self.source,
                self.source_version,
                sorted(self.alt_labels),
                self.skill_type,
                self.description,
                sorted(self.broader),
                sorted(self.related),
                self.attributes,
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class Release:
    """Everything one import read: the records, and what was odd about the files."""

    source: str
    version: str
    records: list[SkillRecord]
    warnings: list[str] = field(default_factory=list)
    attribution: str = ""
