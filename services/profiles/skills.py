"""Taxonomy use cases: create, edit, read and search skills, resolve skill references (ids or
free text) and normalise text, over an in-memory label index kept in step with the database."""

import asyncio
import re
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.idempotency import Claim
from services.kernel.labels import LabelCache
from services.kernel.normalize import Match, SkillLabels, confident, normalize_many, search
from services.kernel.outbox import add_event
from services.kernel.pagination import decode_cursor, encode_cursor, paginate
from services.kernel.web import check_version
from services.profiles.models import (
    Skill,
    SkillAlreadyExists,
    SkillNotFound,
    SkillRelation,
    TaxonomyRevision,
    UnknownSkills,
    now,
)
from services.profiles.schemas import SkillCreate, SkillRef, SkillUpdate

SOURCE = "/taskforce/profiles"


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:200] or "skill"


async def bump_revision(session: AsyncSession) -> None:
    """Every taxonomy write moves the revision, so every process rebuilds its label index."""
    updated = await session.execute(
        sa.update(TaxonomyRevision)
        .where(TaxonomyRevision.id == 1)
        .values(revision=TaxonomyRevision.revision + 1)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(TaxonomyRevision(id=1, revision=1))


async def current_revision(session: AsyncSession) -> int:
    return int(
        await session.scalar(sa.select(TaxonomyRevision.revision).where(TaxonomyRevision.id == 1))
        or 0
    )


async def _taxonomy_labels(session: AsyncSession) -> list[SkillLabels]:
    rows = await session.execute(
        sa.select(Skill.id, Skill.label, Skill.alt_labels, Skill.skill_type)
    )
    return [SkillLabels(r.id, r.label, tuple(r.alt_labels), r.skill_type) for r in rows]


def new_label_cache() -> LabelCache:
    """The process's label index over the taxonomy, rebuilt when the revision moves."""
    return LabelCache(load=_taxonomy_labels, revision=current_revision)


def write_relations(session: AsyncSession, skill: Skill) -> None:
    session.add_all(
        [SkillRelation(skill_id=skill.id, kind="broader", target_id=t) for t in skill.broader]
        + [SkillRelation(skill_id=skill.id, kind="related", target_id=t) for t in skill.related]
    )


async def ensure_skills_exist(session: AsyncSession, skill_ids: set[str], field: str) -> None:
    if not skill_ids:
        return
    found = set(await session.scalars(sa.select(Skill.id).where(Skill.id.in_(skill_ids))))
    missing = sorted(skill_ids - found)
    if missing:
        raise UnknownSkills(
            f"Unknown skill ids: {', '.join(missing[:10])}.",
            errors=[
                {
                    "loc": ["body", field],
                    "msg": f"unknown skill id {skill_id}",
                    "type": "unknown_skill",
                }
                for skill_id in missing[:50]
            ],
        )


async def create_skill(
    session: AsyncSession, data: SkillCreate, claimed: Claim | None = None
) -> Skill:
    skill_id = data.id or f"taskforce:{_slug(data.label)}"
    if await session.get(Skill, skill_id) is not None:
        raise SkillAlreadyExists(f"A skill with id {skill_id} already exists.")
    await ensure_skills_exist(session, set(data.broader), "broader")
    await ensure_skills_exist(session, set(data.related), "related")
    skill = Skill(
        **data.model_dump(exclude={"id"}), id=skill_id, version=1, source="taskforce", attributes={}
    )
    session.add(skill)
    write_relations(session, skill)
    await bump_revision(session)
    add_event(session, skill.announced(), SOURCE)
    if claimed is not None:
        claimed.remember(session, skill.id)
    await session.commit()
    return skill


async def get_skill(session: AsyncSession, skill_id: str) -> Skill:
    skill = await session.get(Skill, skill_id)
    if skill is None:
        raise SkillNotFound(f"No skill with id {skill_id}.")
    return skill


async def narrower_of(session: AsyncSession, skill_id: str, limit: int = 500) -> list[str]:
    return list(
        await session.scalars(
            sa.select(SkillRelation.skill_id)
            .where(SkillRelation.kind == "broader", SkillRelation.target_id == skill_id)
            .order_by(SkillRelation.skill_id)
            .limit(limit)
        )
    )


async def update_skill(
    session: AsyncSession, skill_id: str, data: SkillUpdate, if_match: str | None
) -> Skill:
    skill = await get_skill(session, skill_id)
    check_version(skill.version, if_match)
    changes = data.model_dump(exclude_unset=True)
    await ensure_skills_exist(session, set(changes.get("broader", [])) - {skill_id}, "broader")
    await ensure_skills_exist(session, set(changes.get("related", [])) - {skill_id}, "related")
    changed = {k: v for k, v in changes.items() if getattr(skill, k) != v}
    if not changed:
        return skill
    for name, value in changed.items():
        setattr(skill, name, value)
    skill.version += 1
    skill.updated_at = now()
    skill.content_hash = None  # edited by hand: a re-import will overwrite with the release
    if "broader" in changed or "related" in changed:
        await session.execute(sa.delete(SkillRelation).where(SkillRelation.skill_id == skill_id))
        write_relations(session, skill)
    await bump_revision(session)
    add_event(session, skill.announced(), SOURCE)
    await session.commit()
    return skill


async def list_skills(
    session: AsyncSession, labels: LabelCache, *, q: str | None, limit: int, cursor: str | None
) -> tuple[list[Skill], str | None]:
    """In label order; with `q`, ranked by how well a label matches (exact, prefix, fuzzy)."""
    if not q:
        return await paginate(
            session, sa.select(Skill), [Skill.label, Skill.id], [str, str], limit, cursor
        )
    start = decode_cursor(cursor, [int])[0] if cursor else 0
    index = await labels.current(session)
    ranked = search(index, q, limit=start + limit + 1)
    ids = [m.skill_id for m in ranked[start : start + limit]]
    found = {s.id: s for s in await session.scalars(sa.select(Skill).where(Skill.id.in_(ids)))}
    page = [found[i] for i in ids if i in found]
    more = len(ranked) > start + limit
    return page, encode_cursor([start + limit]) if more else None


async def normalize_texts(
    session: AsyncSession, labels: LabelCache, texts: Sequence[str]
) -> list[list[Match]]:
    index = await labels.current(session)
    return await asyncio.to_thread(normalize_many, index, list(texts), 5)


async def resolve_refs(
    session: AsyncSession, labels: LabelCache, refs: Sequence[SkillRef], field: str
) -> list[str]:
    """Skill ids for references given by id or by free text. Unknown ids and text that does
    not confidently name one skill are refused together, each with the closest suggestions."""
    ids = {ref.skill_id for ref in refs if ref.skill_id}
    found = (
        set(await session.scalars(sa.select(Skill.id).where(Skill.id.in_(ids)))) if ids else set()
    )
    texts = [
        ref.skill_id if ref.skill_id and ref.skill_id not in found else ref.skill for ref in refs
    ]
    unresolved = [(i, t) for i, t in enumerate(texts) if t is not None]
    suggestions: dict[int, list[Match]] = {}
    if unresolved:
        index = await labels.current(session)
        matches = await asyncio.to_thread(
            normalize_many, index, [_as_text(t) for _, t in unresolved], 5
        )
        suggestions = {i: m for (i, _), m in zip(unresolved, matches, strict=True)}
    resolved: list[str] = []
    errors = []
    for i, ref in enumerate(refs):
        if ref.skill_id and ref.skill_id in found:
            resolved.append(ref.skill_id)
            continue
        candidates = suggestions.get(i, [])
        best = [m for m in candidates if confident(m)]
        if (
            ref.skill is not None
            and len({m.skill_id for m in best[:1]}) == 1
            and (len(best) == 1 or best[0].confidence > best[1].confidence)
        ):
            resolved.append(best[0].skill_id)
            continue
        what = ref.skill_id or ref.skill
        errors.append(
            {
                "loc": ["body", field, str(i)],
                "msg": f"unknown skill {what!r}",
                "type": "unknown_skill",
                "suggestions": [
                    {"skill_id": m.skill_id, "label": m.label, "confidence": m.confidence}
                    for m in candidates
                ],
            }
        )
    if errors:
        raise UnknownSkills(
            "Some skills are not in the taxonomy; see the suggestions.", errors=errors
        )
    return resolved


def _as_text(value: str) -> str:
    """An unknown URI is searched by its last segment ('taskforce:data-analysis' → words)."""
    tail = re.split(r"[:/#]", value)[-1] if ":" in value else value
    return tail.replace("-", " ").replace("_", " ")


async def snapshot_skills(session: AsyncSession) -> int:
    count = 0
    for skill in await session.scalars(sa.select(Skill).order_by(Skill.created_at)):
        add_event(session, skill.announced(), SOURCE)
        count += 1
    return count
