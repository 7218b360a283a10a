"""The gateway's authorization policy: one rule per public route of the merged OpenAPI and no
other, every decision one of three, a service's scopes known to the kernel, no role allowed
that the owning service refuses outright, the matching and the verdicts, and the matrix in
docs/security.md generated from it."""

import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts

from services.catalog.main import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.gateway.main import create_app as gateway_app
from services.gateway.policy import (
    DECISIONS,
    MATRIX_END,
    MATRIX_START,
    RULES,
    TOKEN_ROLES,
    markdown,
    refusal,
    rules_for,
    with_matrix,
)
from services.gateway.settings import GatewaySettings
from services.kernel.auth import SCOPES
from services.matching.main import create_app as matching_app
from services.matching.settings import MatchingSettings
from services.profiles.main import create_app as profiles_app
from services.profiles.settings import ProfilesSettings

ROOT = Path(__file__).resolve().parents[3]
OPENAPI = ROOT / "docs" / "api" / "openapi.json"
SECURITY_DOC = ROOT / "docs" / "security.md"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# A skill id is a URI: slashes and a colon, as ESCO's are.
SAMPLES = {"skill_id": "http://data.europa.eu/esco/skill/0a1b-2c3d"}
SAMPLE_ID = "6a1d0c3e-0a4b-4f51-9d7e-3c1f2b8a9e10"


def openapi_operations() -> set[tuple[str, str]]:
    document = json.loads(OPENAPI.read_text())
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def sample_path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m[1], SAMPLE_ID), template)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def test_every_route_of_the_merged_openapi_has_exactly_one_rule() -> None:
    listed = [(rule.method, rule.path) for rule in RULES]

    assert len(listed) == len(set(listed)), "a route is listed twice"
    missing = openapi_operations() - set(listed)
    assert not missing, f"routes without a rule in services/gateway/policy.py: {sorted(missing)}"


def test_every_rule_is_a_real_route(tmp_path: Path) -> None:
    documented = openapi_operations()
    # The gateway's own routes that the document leaves out (the docs, the document itself).
    gateway = gateway_app(GatewaySettings(auth_local_key_file=tmp_path / "key"))
    undocumented = {
        (method, route.path)
        for route in iter_route_contexts(gateway.routes)
        if not route.include_in_schema
        for method in route.methods or ()
    }
    ghosts = {(rule.method, rule.path) for rule in RULES} - documented - undocumented

    assert not ghosts, f"rules for routes that do not exist: {sorted(ghosts)}"


def test_each_rule_decides_every_role_with_one_of_three_values() -> None:
    for rule in RULES:
        assert set(rule.decisions) == {"anonymous", *TOKEN_ROLES}
        assert set(rule.decisions.values()) <= set(DECISIONS), rule.path


def test_only_the_routes_public_on_purpose_are_open_without_a_token() -> None:
    public = {(rule.method, rule.path) for rule in RULES if rule.decisions["anonymous"] != "deny"}

    assert public == {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("POST", "/oauth/token"),
    }
    assert not any(path.startswith("/v1") for _, path in public)


def test_a_service_needs_known_scopes_wherever_it_is_let_in() -> None:
    for rule in RULES:
        if rule.decisions["anonymous"] == "allow":
            assert not rule.scopes, rule.path
        elif rule.decisions["service"] == "deny":
            assert not rule.scopes, f"{rule.method} {rule.path}: scopes for a denied service"
        else:
            assert rule.scopes, f"{rule.method} {rule.path}: a service needs a scope"
            assert rule.scopes <= SCOPES, f"{rule.method} {rule.path}: unknown scope"


def service_apps(tmp_path: Path) -> Iterator[FastAPI]:
    key = tmp_path / "key"
    yield catalog_app(CatalogSettings(auth_local_key_file=key))
    yield profiles_app(ProfilesSettings(auth_local_key_file=key))
    yield matching_app(MatchingSettings(auth_local_key_file=key))


def required_roles(route: RouteContext) -> set[str] | None:
    """The roles of the route's `require_roles(...)` dependency, or None when it has none."""
    for dependency in route.dependant.dependencies:
        call: Any = dependency.call
        if getattr(call, "__qualname__", "").startswith("require_roles."):
            return set(inspect.getclosurevars(call).nonlocals["roles"])
    return None


def test_no_role_is_let_in_that_the_owning_service_refuses_outright(tmp_path: Path) -> None:
    checked = 0
    for app in service_apps(tmp_path):
        for route in iter_route_contexts(app.routes):
            if not (route.path or "").startswith("/v1"):
                continue
            needed = required_roles(route)
            if needed is None:
                continue
            for method in route.methods or ():
                (rule,) = [r for r in RULES if (r.method, r.path) == (method, _openapi(route))]
                let_in = {role for role in TOKEN_ROLES if rule.decisions[role] != "deny"}
                assert let_in <= needed, f"{method} {route.path}: the service refuses {let_in}"
                checked += 1
    assert checked > 20


def _openapi(route: RouteContext) -> str:
    """The route's path as the OpenAPI document writes it (no `:path` convertor)."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path or "")


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.method} {rule.path}")
def test_a_path_of_each_route_matches_that_rule_alone(rule: Any) -> None:
    assert rules_for(rule.method, sample_path(rule.path)) == [rule]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/tasks/t1/candidates/w1/extra"),
        ("GET", "/v1/workers/w1/skills"),
        ("DELETE", "/v1/tasks/t1"),
        ("POST", "/v1/tasks/"),
        ("GET", "/v1/nothing-here"),
    ],
)
def test_a_route_no_service_serves_matches_no_rule(method: str, path: str) -> None:
    assert rules_for(method, path) == []
    # Left to the route table and the upstream, which answer 404 or 405.
    assert refusal(method, path, roles("worker"), frozenset()) is None


def test_head_is_judged_as_get() -> None:
    path = f"/v1/workers/{SAMPLE_ID}"
    assert rules_for("HEAD", path) == rules_for("GET", path) != []


def test_a_skill_id_may_span_segments_as_the_service_declares_it() -> None:
    skill = "http://data.europa.eu/esco/skill/abc"
    (verify,) = rules_for("POST", f"/v1/workers/{SAMPLE_ID}/skills/{skill}:verify")
    (read,) = rules_for("GET", f"/v1/skills/{skill}")

    assert verify.path == "/v1/workers/{worker_id}/skills/{skill_id}:verify"
    assert read.path == "/v1/skills/{skill_id}"


def test_a_role_denied_everywhere_on_a_route_is_refused() -> None:
    refused = refusal("POST", "/v1/skills", roles("worker", "manager"), frozenset())

    assert refused is not None
    assert refused.scopes == frozenset()


def test_a_token_is_let_in_when_any_of_its_roles_is() -> None:
    assert refusal("POST", "/v1/skills", roles("worker", "admin"), frozenset()) is None
    assert refusal("GET", "/v1/me", roles("manager", "worker"), frozenset()) is None


def test_own_is_let_through_for_the_service_to_check_the_object() -> None:
    path = f"/v1/workers/{SAMPLE_ID}/ledger"
    assert refusal("GET", path, roles("worker"), frozenset()) is None


def test_a_token_without_a_known_role_is_refused_everywhere_under_v1() -> None:
    for rule in RULES:
        if rule.path.startswith("/v1"):
            assert refusal(rule.method, sample_path(rule.path), roles(), SCOPES) is not None


def test_a_service_is_let_in_only_with_the_scopes_of_the_route() -> None:
    path = "/v1/tasks"
    assert refusal("GET", path, roles("service"), frozenset({"tasks:read"})) is None

    refused = refusal("GET", path, roles("service"), SCOPES - {"tasks:read"})
    assert refused is not None
    assert refused.scopes == {"tasks:read"}
    assert "tasks:read" in refused.detail


def test_scopes_do_not_open_a_route_denied_to_services() -> None:
    refused = refusal("POST", "/v1/skills", roles("service"), SCOPES)

    assert refused is not None
    assert refused.scopes == frozenset()


def test_a_person_role_needs_no_scope_beside_a_service_role() -> None:
    assert refusal("GET", "/v1/workers", roles("manager", "service"), frozenset()) is None


def test_docs_security_md_holds_the_matrix_of_the_policy() -> None:
    document = SECURITY_DOC.read_text()

    assert with_matrix(document, markdown()) == document, (
        "docs/security.md's matrix is stale: run `python -m services.gateway.policy "
        "docs/security.md`"
    )


def test_the_matrix_has_a_row_per_rule_and_a_column_per_role() -> None:
    rows = [line for line in markdown().splitlines() if line.startswith("| `")]

    assert len(rows) == len(RULES)
    assert markdown().splitlines()[0].split(" | ")[1:6] == [
        "anonymous",
        "worker",
        "manager",
        "admin",
        "service",
    ]
    assert "| `GET /v1/tasks` | deny | allow | allow | allow | allow `tasks:read` |" in markdown()


def test_the_matrix_is_written_between_the_markers_only() -> None:
    document = f"# Security\n\nbefore\n{MATRIX_START}\nold table\n{MATRIX_END}\nafter\n"
    written = with_matrix(document, "| new |\n")

    assert written == f"# Security\n\nbefore\n{MATRIX_START}\n| new |\n{MATRIX_END}\nafter\n"
    with pytest.raises(ValueError):
        with_matrix("# no markers\n", "| new |\n")
