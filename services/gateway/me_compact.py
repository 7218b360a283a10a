"""Pure: the upstreams' answers turned into the compact bodies of `/v1/me`, the one-line "why"
of a recommendation, and strong ETags with the `If-None-Match` check. No I/O here."""

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from services.gateway.me_schemas import (
    MeAssignment,
    MeInterest,
    MeLedger,
    MeProfile,
    MeRecommendation,
    MeSkillRef,
)

# An entity tag as RFC 9110 §8.8.3 writes it, weak or strong.
ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')
# How many skills a clause of the "why" names before it says "and N more".
NAMED = 3


def compact_profile(worker: Mapping[str, Any], ledger: Mapping[str, Any] | None) -> MeProfile:
    """The profile from profiles' worker and the first weeks of matching's ledger (None when
    matching does not know the worker yet)."""
    return MeProfile.model_validate({**worker, "hours": ledger["weeks"] if ledger else None})


def compact_ledger(ledger: Mapping[str, Any]) -> MeLedger:
    return MeLedger.model_validate(ledger)


def compact_interest(item: Mapping[str, Any]) -> MeInterest:
    return MeInterest.model_validate(item)


def compact_assignment(item: Mapping[str, Any], title: str | None) -> MeAssignment:
    return MeAssignment.model_validate({**item, "title": title})


def compact_recommendation(item: Mapping[str, Any]) -> MeRecommendation:
    labels: Mapping[str, str] = item.get("skill_labels") or {}
    return MeRecommendation(
        task_id=item["task_id"],
        title=item["title"],
        score=round(float(item["score"]), 3),
        why=why(item, labels),
        learns=[MeSkillRef(skill_id=s, label=labels.get(s)) for s in item.get("learns", [])],
        learning_seat=bool(item.get("learning_seat", False)),
        hours_per_week=item["hours_per_week"],
        start_date=item["start_date"],
        end_date=item["end_date"],
        interested=bool(item.get("interested", False)),
    )


def listing(names: Sequence[str]) -> str:
    """`A`, `A and B`, `A, B and C`, `A, B, C and 2 more`."""
    shown = list(names[:NAMED])
    if len(names) > NAMED:
        return f"{', '.join(shown)} and {len(names) - NAMED} more"
    if len(shown) > 1:
        return f"{', '.join(shown[:-1])} and {shown[-1]}"
    return shown[0] if shown else ""


def why(item: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """One line from matching's explanation: the skills the task uses that the worker has, the
    stretch or the related skill that stands in, and how much of their free time it takes."""

    def name(skill_id: str) -> str:
        return labels.get(skill_id, skill_id)

    gaps = item.get("gaps", [])
    clauses = []
    met = [name(line["skill_id"]) for line in item.get("matched", [])]
    if met:
        clauses.append(f"uses your {listing(met)}")
    stretch = [name(line["skill_id"]) for line in gaps if line.get("worker_level")]
    if stretch:
        clauses.append(f"a stretch in {listing(stretch)}")
    for line in gaps:
        if line.get("via") and not line.get("worker_level"):
            clauses.append(f"your {name(line['via'])} stands in for {name(line['skill_id'])}")
    hours = item.get("hours") or {}
    if hours.get("min_free_per_week") is not None:
        clauses.append(
            f"{hours['per_week']:g} of your {hours['min_free_per_week']:g} free hours a week"
        )
    if (item.get("dates") or {}).get("available_share", 1) < 1:
        clauses.append("you are away for part of it")
    text = "; ".join(clauses) or "open to you"
    return text[0].upper() + text[1:]


def json_and_etag(body: BaseModel) -> tuple[bytes, str]:
    """The body as sent, and its strong ETag: a hash of exactly those bytes."""
    raw = body.model_dump_json().encode()
    return raw, f'"{hashlib.sha256(raw).hexdigest()[:32]}"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """False when `If-None-Match` names `etag` (or is `*`): the client's copy is current.
    RFC 9110 §13.1.2 compares weakly here, so `W/"x"` matches `"x"`."""
    if if_none_match is None:
        return True
    if if_none_match.strip() == "*":
        return False
    wanted = {tag.removeprefix("W/") for tag in ENTITY_TAG.findall(if_none_match)}
    return etag not in wanted
