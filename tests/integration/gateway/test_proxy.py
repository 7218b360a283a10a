"""The gateway in front of a real upstream (a small FastAPI app served by uvicorn on a free
port): auth, forwarding, failures, health and the merged OpenAPI document."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings
from services.kernel.auth import mint_local_token

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
CONFLICT = (
    b'{"type":"https://taskforce.dev/problems/conflict","title":"Conflict",'
    b'"status":409,"detail":"Only a draft task can be published."}'
)


class TaskRead(BaseModel):
    id: str
    title: str


@dataclass
class Upstream:
    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)


def a_fake_catalog(seen: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI(title="fake catalog")

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        seen.append({"path": request.url.path, "headers": dict(request.headers)})
        return await call_next(request)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/internal/state")
    async def internal_state() -> dict[str, str]:
        return {"secret": "no"}

    @app.get("/v1/tasks/{task_id}", response_model=TaskRead)
    async def get_task(task_id: str, request: Request) -> JSONResponse:
        echo = {
            "path": request.url.path,
            "query": request.url.query,
            "headers": dict(request.headers),
            "request_ids": request.headers.getlist("x-request-id"),
            "traceparents": request.headers.getlist("traceparent"),
        }
        return JSONResponse(echo, headers={"ETag": '"3"'})

    @app.get("/v1/tasks/{task_id}/cookie")
    async def set_cookie(task_id: str) -> Response:
        response = Response(status_code=204)
        response.set_cookie("session", f"for-{task_id}")
        return response

    @app.post("/v1/tasks")
    async def create_task(request: Request) -> Response:
        body = await request.body()
        response = Response(body, status_code=201, media_type="application/octet-stream")
        response.raw_headers.extend([(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")])
        return response

    @app.post("/v1/tasks/{task_id}:publish")
    async def publish_task(task_id: str) -> Response:
        return Response(CONFLICT, status_code=409, media_type="application/problem+json")

    @app.get("/v1/tasks/{task_id}/slow")
    async def slow(task_id: str) -> dict[str, str]:
        await asyncio.sleep(1.0)
        return {"status": "late"}

    @app.get("/v1/workers")
    async def not_routed_here() -> list[str]:
        return []

    return app


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[Upstream]:
    seen: list[dict[str, Any]] = []
    config = uvicorn.Config(
        a_fake_catalog(seen),
        host="127.0.0.1",
        port=0,
        log_config=None,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the fake upstream failed to start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Upstream(url=f"http://127.0.0.1:{port}", seen=seen)
    server.should_exit = True
    await serving


def a_closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def settings(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> GatewaySettings:
    key_file: Path = tmp_path_factory.mktemp("gateway") / "signing.key"
    return GatewaySettings(
        auth_mode="local",
        auth_local_key_file=key_file,
        log_json=False,
        catalog_url=upstream.url,
        profiles_url=a_closed_port(),
        matching_url=a_closed_port(),
        upstream_read_timeout_s=0.3,
    )


@pytest.fixture(scope="module")
def token(settings: GatewaySettings) -> str:
    return mint_local_token(settings, "manager-1", ["manager"])


async def a_gateway(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture
async def gateway(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in a_gateway(settings):
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def test_a_request_without_a_token_is_refused_before_reaching_the_upstream(
    gateway: httpx.AsyncClient, upstream: Upstream
) -> None:
    before = len(upstream.seen)

    response = await gateway.get("/v1/tasks/t1")

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert len(upstream.seen) == before


async def test_a_forged_token_is_refused(gateway: httpx.AsyncClient, tmp_path: Path) -> None:
    stranger = GatewaySettings(auth_local_key_file=tmp_path / "other.key")

    response = await gateway.get(
        "/v1/tasks/t1", headers=bearer(mint_local_token(stranger, "x", ["admin"]))
    )

    assert_problem(response, 401)
    assert "www-authenticate" in response.headers


async def test_a_valid_request_reaches_the_upstream_with_its_token_ids_and_query(
    gateway: httpx.AsyncClient, token: str, upstream: Upstream
) -> None:
    headers = {
        **bearer(token),
        "X-Request-ID": "req-42",
        "traceparent": TRACEPARENT,
        "Connection": "X-Hop",
        "X-Hop": "1",
        "Keep-Alive": "timeout=5",
    }

    response = await gateway.get("/v1/tasks/t1?status=open&limit=2", headers=headers)

    assert response.status_code == 200
    assert response.headers["etag"] == '"3"'
    assert response.headers["x-request-id"] == "req-42"
    echo = response.json()
    assert echo["path"] == "/v1/tasks/t1"
    assert echo["query"] == "status=open&limit=2"
    received = echo["headers"]
    assert received["authorization"] == f"Bearer {token}"
    assert received["x-request-id"] == "req-42"
    assert received["traceparent"] == TRACEPARENT
    assert received["host"] == upstream.url.removeprefix("http://")
    assert received["x-forwarded-host"] == "gateway"
    assert not {"x-hop", "keep-alive"} & received.keys()


async def test_the_gateway_gives_a_request_without_ids_its_own_and_passes_them_on(
    gateway: httpx.AsyncClient, token: str
) -> None:
    response = await gateway.get("/v1/tasks/t1", headers=bearer(token))

    echo = response.json()
    assert echo["request_ids"] == [response.headers["x-request-id"]]
    assert echo["traceparents"] == [response.headers["traceparent"]]


async def test_invalid_ids_are_replaced_not_passed_on(
    gateway: httpx.AsyncClient, token: str
) -> None:
    headers = {**bearer(token), "X-Request-ID": "not a valid id!", "traceparent": "garbage"}

    response = await gateway.get("/v1/tasks/t1", headers=headers)

    echo = response.json()
    assert echo["request_ids"] == [response.headers["x-request-id"]] != ["not a valid id!"]
    assert echo["traceparents"] == [response.headers["traceparent"]] != ["garbage"]


async def test_a_streamed_request_body_reaches_the_upstream_whole(
    gateway: httpx.AsyncClient, token: str
) -> None:
    chunks = [bytes([i]) * 64_000 for i in range(16)]

    async def upload() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    response = await gateway.post("/v1/tasks", content=upload(), headers=bearer(token))

    assert response.status_code == 201
    assert response.content == b"".join(chunks)
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


async def test_an_upstream_problem_passes_through_unchanged(
    gateway: httpx.AsyncClient, token: str
) -> None:
    response = await gateway.post("/v1/tasks/t1:publish", headers=bearer(token))

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.content == CONFLICT


async def test_an_unreachable_upstream_is_a_quick_503_naming_it_and_no_address(
    gateway: httpx.AsyncClient, token: str, settings: GatewaySettings
) -> None:
    started = time.perf_counter()

    response = await gateway.post(
        "/v1/skills:normalize", json={"text": "python"}, headers=bearer(token)
    )

    assert time.perf_counter() - started < 1.0
    body = assert_problem(response, 503)
    assert body["detail"] == "The profiles service is unavailable; retry later."
    assert response.headers["retry-after"] == "1"
    assert settings.profiles_url.removeprefix("http://") not in response.text


async def test_an_upstream_slower_than_the_read_timeout_is_a_504(
    gateway: httpx.AsyncClient, token: str
) -> None:
    response = await gateway.get("/v1/tasks/t1/slow", headers=bearer(token))

    body = assert_problem(response, 504)
    assert "catalog" in body["detail"]


async def test_a_v1_path_no_service_owns_is_a_404_problem(
    gateway: httpx.AsyncClient, token: str
) -> None:
    response = await gateway.get("/v1/nothing-here", headers=bearer(token))

    assert_problem(response, 404)


async def test_dot_segments_cannot_reach_an_upstreams_internal_routes(
    gateway: httpx.AsyncClient, token: str, upstream: Upstream
) -> None:
    before = len(upstream.seen)

    response = await gateway.get("/v1/tasks/%2e%2e/%2e%2e/internal/state", headers=bearer(token))

    assert_problem(response, 404)
    assert len(upstream.seen) == before


async def test_the_merged_openapi_documents_the_upstreams_v1_paths_behind_bearer_auth(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Taskforce API"
    assert {
        "/v1/tasks",
        "/v1/tasks/{task_id}",
        "/v1/tasks/{task_id}:publish",
        "/healthz",
        "/readyz",
    } <= document["paths"].keys()
    assert "/internal/state" not in document["paths"]
    # The route table sends /v1/workers to profiles, so the catalog's version is not shown.
    assert "/v1/workers" not in document["paths"]
    assert "TaskRead" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]


async def test_docs_serve_swagger_ui_over_the_merged_document(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/docs")

    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "/openapi.json" in response.text


async def test_the_gateway_is_alive_even_when_upstreams_are_down(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_the_gateway_stays_ready_while_an_upstream_is_down_and_says_which(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"catalog": "ok", "profiles": "not ready", "matching": "not ready"},
    }


async def test_the_gateway_is_ready_when_every_upstream_is(
    settings: GatewaySettings, upstream: Upstream
) -> None:
    all_up = settings.model_copy(
        update={"profiles_url": upstream.url, "matching_url": upstream.url}
    )
    async for gateway in a_gateway(all_up):
        response = await gateway.get("/readyz")

        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "checks": {"catalog": "ok", "profiles": "ok", "matching": "ok"},
        }


async def test_metrics_are_served(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/metrics")

    assert response.status_code == 200
    assert "http_requests_total" in response.text


async def test_a_cookie_one_caller_got_never_rides_on_anothers_request(
    gateway: httpx.AsyncClient, token: str
) -> None:
    # The gateway's upstream client serves every caller, so it must keep no cookie jar.
    first = await gateway.get("/v1/tasks/t1/cookie", headers=bearer(token))
    assert first.status_code == 204
    assert "session=for-t1" in first.headers["set-cookie"]  # the caller gets it, as sent
    gateway.cookies.clear()  # the next caller is someone else

    second = await gateway.get("/v1/tasks/t1", headers=bearer(token))

    assert "cookie" not in second.json()["headers"]
