"""The route table: which upstream serves a `/v1` path. Pure: no I/O, no settings."""

import re

# First match wins, so the matching service's sub-resources of tasks and workers come before
# the owners' catch-all patterns. Custom actions use a colon (`/v1/tasks/{id}:publish`).
ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), upstream)
    for pattern, upstream in [
        (r"^/v1/tasks/[^/]+/candidates(/.*)?$", "matching"),
        (r"^/v1/tasks/[^/]+/interests$", "matching"),
        (r"^/v1/workers/[^/]+/(recommendations|ledger|interests)$", "matching"),
        (r"^/v1/workers/[^/]+/interests/[^/]+$", "matching"),
        (r"^/v1/(match-runs|assignments)([/:].*)?$", "matching"),
        (r"^/v1/(tasks|jobs|job-imports)([/:].*)?$", "catalog"),
        (r"^/v1/(workers|skills|skill-imports)([/:].*)?$", "profiles"),
    ]
)


def upstream_for(path: str) -> str | None:
    """The upstream that serves `path`, or None when no service does."""
    if any(segment in (".", "..") for segment in path.split("/")):
        # httpx would resolve dot segments and could reach an upstream's non-API routes.
        return None
    for pattern, upstream in ROUTES:
        # fullmatch, not match: `$` alone would accept a trailing newline.
        if pattern.fullmatch(path):
            return upstream
    return None
