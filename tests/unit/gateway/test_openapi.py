"""Merging the upstreams' OpenAPI documents into the gateway's one document."""

from typing import Any

from services.gateway.main import merge_openapi

PROBLEM = {"type": "object", "properties": {"title": {"type": "string"}}}


def a_doc(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def an_operation(schema: str) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return {"get": {"responses": {"200": {"content": content}}}}


OWN = a_doc({"/healthz": {"get": {"responses": {}}}}, {})


def test_only_v1_paths_routed_to_that_upstream_are_documented() -> None:
    catalog = a_doc(
        {
            "/v1/tasks": an_operation("Problem"),
            "/readyz": {"get": {}},
            "/v1/workers": an_operation("Problem"),
        },
        {"Problem": PROBLEM},
    )

    merged = merge_openapi(OWN, {"catalog": catalog})

    assert set(merged["paths"]) == {"/healthz", "/v1/tasks"}
    assert merged["components"]["schemas"] == {"Problem": PROBLEM}


def test_the_document_requires_a_bearer_token_except_on_health_routes() -> None:
    merged = merge_openapi(OWN, {})

    assert merged["openapi"] == "3.1.0"
    assert merged["info"]["title"] == "Taskforce API"
    assert merged["security"] == [{"bearerAuth": []}]
    assert merged["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert merged["paths"]["/healthz"]["get"]["security"] == []


def test_a_schema_name_defined_differently_by_two_upstreams_is_kept_apart() -> None:
    catalog = a_doc(
        {"/v1/tasks": an_operation("Item")}, {"Item": {"type": "string"}, "Problem": PROBLEM}
    )
    profiles = a_doc(
        {"/v1/skills": an_operation("Item")},
        {
            "Item": {"type": "integer"},
            "Problem": PROBLEM,
            "Page": {"items": {"$ref": "#/components/schemas/Item"}},
        },
    )

    merged = merge_openapi(OWN, {"catalog": catalog, "profiles": profiles})

    schemas = merged["components"]["schemas"]
    assert schemas["Item"] == {"type": "string"}
    assert schemas["profiles.Item"] == {"type": "integer"}
    assert schemas["Page"] == {"items": {"$ref": "#/components/schemas/profiles.Item"}}
    assert "profiles.Problem" not in schemas
    skills = merged["paths"]["/v1/skills"]["get"]["responses"]["200"]["content"]
    assert skills["application/json"]["schema"]["$ref"] == "#/components/schemas/profiles.Item"
    tasks = merged["paths"]["/v1/tasks"]["get"]["responses"]["200"]["content"]
    assert tasks["application/json"]["schema"]["$ref"] == "#/components/schemas/Item"
