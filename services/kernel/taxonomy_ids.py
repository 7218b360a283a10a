"""Stable skill ids of imported taxonomies, shared by profiles (which imports the skills) and
catalog (which refers to them). Pure functions of names and codes: no I/O."""

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable


def element_id(element: str) -> str:
    """An O*NET Content Model element (a skill, a knowledge area), e.g. `2.B.3.e`."""
    return f"onet:element:{element}"


def commodity_id(code: str) -> str:
    """A UNSPSC commodity class of O*NET technology skills."""
    return f"onet:commodity:{code}"


def product_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def product_ids(products: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Ids of technology products, and a note for each name whose slug collided.

    Stable ids from slugs; within a colliding group (C, C#, C++) the first name in code-point
    order keeps the bare slug and the others get a suffix from a hash of their own name, so a
    product's id does not depend on which other products a release lists."""
    by_slug: dict[str, list[str]] = defaultdict(list)
    for product in sorted(set(products)):
        by_slug[product_slug(product) or "unnamed"].append(product)
    ids: dict[str, str] = {}
    collisions: list[str] = []
    for base, names in by_slug.items():
        first, *others = sorted(names)
        ids[first] = f"onet:technology:{base}"
        for name in others:
            digest = hashlib.sha256(name.encode()).hexdigest()[:8]
            ids[name] = f"onet:technology:{base}-{digest}"
            collisions.append(f"{name!r} → {ids[name]} (not {first!r})")
    return ids, collisions
