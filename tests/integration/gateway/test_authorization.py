"""The gateway enforces its authorization policy before routing: in front of one fake upstream
(serving as catalog, profiles and matching) that records every request it gets, a refused
call is a 403 problem+json that never reaches it, and an allowed one does."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request

from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings
from services.kernel.auth import SCOPES, mint_local_token

WORKER_ID = "6a1d0c3e-0a4b-4f51-9d7e-3c1f2b8a9e10"


def a_recording_upstream(seen: list[str]) -> FastAPI:
    app = FastAPI(title="fake services")

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def anything(path: str, request: Request) -> dict[str, Any]:
        seen.append(f"{request.method} {request.url.path}")
        return {"items": [], "next_cursor": None}

    return app


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[tuple[str, list[str]]]:
    seen: list[str] = []
    config = uvicorn.Config(
        a_recording_upstream(seen), host="127.0.0.1", port=0, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the fake upstream failed to start"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", seen
    server.should_exit = True
    await serving


@pytest.fixture
def settings(tmp_path: Path, upstream: tuple[str, list[str]]) -> GatewaySettings:
    url, _ = upstream
    return GatewaySettings(
        auth_local_key_file=tmp_path / "signing.key",
        log_json=False,
        catalog_url=url,
        profiles_url=url,
        matching_url=url,
    )


@pytest.fixture
async def gateway(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture
def seen(upstream: tuple[str, list[str]]) -> list[str]:
    _, requests = upstream
    requests.clear()
    return requests


def bearer(
    settings: GatewaySettings, *roles: str, scopes: frozenset[str] = frozenset()
) -> dict[str, str]:
    token = mint_local_token(settings, "caller-1", list(roles), worker_id=WORKER_ID, scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    return response.json()


async def test_a_role_the_policy_denies_is_refused_before_the_upstream(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    body = {"id": "taskforce:python", "label": "Python"}
    refused = await gateway.post("/v1/skills", json=body, headers=bearer(settings, "worker"))

    assert assert_refused(refused)["status"] == 403
    assert seen == []


async def test_a_token_is_let_through_when_any_of_its_roles_may_call(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    allowed = await gateway.post(
        "/v1/skills", json={"id": "x"}, headers=bearer(settings, "worker", "admin")
    )

    assert allowed.status_code == 200
    assert seen == ["POST /v1/skills"]


async def test_own_is_let_through_for_the_service_to_judge_the_object(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    other_worker = "0b7c2a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    answer = await gateway.get(
        f"/v1/workers/{other_worker}/ledger", headers=bearer(settings, "worker")
    )

    assert answer.status_code == 200
    assert seen == [f"GET /v1/workers/{other_worker}/ledger"]


async def test_a_machine_client_needs_the_scope_of_the_route(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    lacking = await gateway.get(
        "/v1/tasks", headers=bearer(settings, "service", scopes=SCOPES - {"tasks:read"})
    )
    granted = await gateway.get(
        "/v1/tasks", headers=bearer(settings, "service", scopes=frozenset({"tasks:read"}))
    )

    assert "tasks:read" in assert_refused(lacking)["detail"]
    assert 'scope="tasks:read"' in lacking.headers["www-authenticate"]
    assert granted.status_code == 200
    assert seen == ["GET /v1/tasks"]


async def test_scopes_do_not_open_a_route_closed_to_machine_clients(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    refused = await gateway.post(
        "/v1/jobs:deconstruct", json={}, headers=bearer(settings, "service", scopes=SCOPES)
    )

    assert_refused(refused)
    assert seen == []


async def test_the_mobile_api_is_refused_to_a_machine_client_by_the_policy(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    refused = await gateway.get("/v1/me", headers=bearer(settings, "service", scopes=SCOPES))

    assert_refused(refused)
    assert seen == []


async def test_an_encoded_path_is_judged_as_the_upstream_will_read_it(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    # `%73` is `s`: the upstream would route this to POST /v1/skills, admins only.
    refused = await gateway.post("/v1/%73kills", json={}, headers=bearer(settings, "worker"))

    assert_refused(refused)
    assert seen == []


async def test_a_token_without_a_known_role_reaches_nothing(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    refused = await gateway.get("/v1/tasks", headers=bearer(settings))

    assert_refused(refused)
    assert seen == []


async def test_without_a_token_it_is_still_401_and_an_unknown_route_still_404(
    gateway: httpx.AsyncClient, settings: GatewaySettings, seen: list[str]
) -> None:
    anonymous = await gateway.post("/v1/skills", json={})
    unknown = await gateway.get("/v1/nothing-here", headers=bearer(settings, "worker"))

    assert anonymous.status_code == 401
    assert unknown.status_code == 404
    assert seen == []
