"""The gateway's limits and resilience against a real upstream (a small FastAPI app served by
uvicorn on a fixed port) that tests stop and start again: fast 503s, the circuit breaker,
retries, timeouts, rate, body and header limits, and gzip."""

import asyncio
import contextlib
import gzip
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings
from services.kernel.auth import mint_local_token

REPORT = {"rows": [{"id": i, "title": f"Task number {i}", "status": "open"} for i in range(400)]}
LINES = b"".join(json.dumps({"line": i, "pad": "x" * 60}).encode() + b"\n" for i in range(2000))


def a_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def a_fake_catalog(hits: list[tuple[str, str]]) -> FastAPI:
    app = FastAPI(title="fake catalog")

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        hits.append((request.method, request.url.path))
        return response

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/v1/tasks/{task_id}")
    async def get_task(task_id: str) -> dict[str, str]:
        return {"id": task_id}

    @app.put("/v1/tasks/{task_id}")
    async def replace_task(task_id: str, request: Request) -> Response:
        return Response(await request.body(), media_type="application/json")

    @app.post("/v1/tasks")
    async def create_task(request: Request) -> Response:
        return Response(await request.body(), status_code=201, media_type="application/json")

    @app.post("/v1/tasks:bulk")
    async def bulk(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/v1/tasks/{task_id}/slow")
    async def slow(task_id: str) -> dict[str, str]:
        await asyncio.sleep(1.0)
        return {"status": "late"}

    @app.get("/v1/tasks/{task_id}/report")
    async def report(task_id: str) -> JSONResponse:
        return JSONResponse(REPORT)

    @app.get("/v1/tasks/{task_id}/archive")
    async def archive(task_id: str) -> Response:
        body = gzip.compress(json.dumps(REPORT).encode())
        return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})

    @app.get("/v1/tasks/{task_id}/lines")
    async def lines(task_id: str) -> Response:
        return Response(LINES, media_type="application/x-ndjson")

    return app


class Upstream:
    """The fake catalog on one port for the whole test, whether it is up or not."""

    def __init__(self) -> None:
        self.port = a_free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: list[tuple[str, str]] = []
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None

    def hits_on(self, method: str, path: str) -> int:
        return self.hits.count((method, path))

    async def start(self) -> None:
        config = uvicorn.Config(
            a_fake_catalog(self.hits),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve())
        while not self._server.started:
            assert not self._serving.done(), "the fake upstream failed to start"
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        assert self._server is not None and self._serving is not None
        self._server.should_exit = True
        await self._serving


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    upstream = Upstream()
    await upstream.start()
    yield upstream
    if upstream._serving is not None and not upstream._serving.done():
        await upstream.stop()


@contextlib.asynccontextmanager
async def counting_listener(port: int) -> AsyncIterator[list[int]]:
    """Something listening where the upstream was, counting every connection it is offered."""
    connections: list[int] = []

    async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", port)
    try:
        yield connections
    finally:
        server.close()
        await server.wait_closed()


def settings_for(upstream: Upstream, tmp_path: Path, **overrides: Any) -> GatewaySettings:
    closed = f"http://127.0.0.1:{a_free_port()}"
    values: dict[str, Any] = {
        "auth_local_key_file": tmp_path / "signing.key",
        "log_json": False,
        "catalog_url": upstream.url,
        "profiles_url": closed,
        "matching_url": closed,
        "upstream_read_timeout_s": 0.4,
        "breaker_threshold": 3,
        "breaker_cooldown_s": 0.5,
        "upstream_retry_backoff_s": 0.01,
        **overrides,
    }
    return GatewaySettings(**values)


class Gateway:
    def __init__(self, client: httpx.AsyncClient, app: FastAPI, token: str) -> None:
        self.client, self.app = client, app
        self.auth = {"Authorization": f"Bearer {token}"}

    def breaker(self, upstream: str = "catalog") -> Any:
        return self.app.state.breakers[upstream]


@contextlib.asynccontextmanager
async def a_gateway(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    app = create_app(settings)
    token = mint_local_token(settings, "manager-1", ["manager"])
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield Gateway(client, app, token)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def eventually(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.002)


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await call
    return response, time.perf_counter() - started


# A down upstream and its circuit breaker


async def test_a_dead_upstream_costs_nothing_while_its_circuit_is_open_and_recovers(
    upstream: Upstream, tmp_path: Path
) -> None:
    settings = settings_for(upstream, tmp_path, upstream_retries=0, breaker_cooldown_s=1.0)
    async with a_gateway(settings) as gateway:
        assert (await gateway.client.get("/v1/tasks/t1", headers=gateway.auth)).status_code == 200
        await upstream.stop()

        for _ in range(3):
            response, elapsed = await timed(
                gateway.client.get("/v1/tasks/t1", headers=gateway.auth)
            )
            assert_problem(response, 503)
            assert elapsed < 0.5
        assert gateway.breaker().state == "open"

        async with counting_listener(upstream.port) as connections:
            for _ in range(5):
                response, elapsed = await timed(
                    gateway.client.get("/v1/tasks/t1", headers=gateway.auth)
                )
                body = assert_problem(response, 503)
                assert body["detail"] == "The catalog service is unavailable; retry later."
                assert int(response.headers["retry-after"]) >= 1
                assert elapsed < 0.1
            ready = (await gateway.client.get("/readyz")).json()
            metrics = (await gateway.client.get("/metrics")).text
        assert connections == []
        assert ready["checks"]["catalog"] == "circuit open"
        assert 'gateway_upstream_circuit_state{state="open",upstream="catalog"} 1.0' in metrics

        await upstream.start()
        await asyncio.sleep(1.0)
        assert gateway.breaker().state == "half-open"
        response = await gateway.client.get("/v1/tasks/t1", headers=gateway.auth)

        assert response.status_code == 200
        assert gateway.breaker().state == "closed"
        assert (await gateway.client.get("/readyz")).json()["checks"]["catalog"] == "ok"


async def test_a_503_names_no_address_port_or_exception(upstream: Upstream, tmp_path: Path) -> None:
    async with a_gateway(settings_for(upstream, tmp_path)) as gateway:
        await upstream.stop()

        response = await gateway.client.get("/v1/tasks/t1", headers=gateway.auth)

        assert_problem(response, 503)
        for leak in ("127.0.0.1", str(upstream.port), "Error", "httpx", "Traceback", "errno"):
            assert leak.lower() not in response.text.lower()


async def test_an_upstream_slower_than_the_read_timeout_is_a_504_in_time_and_not_retried(
    upstream: Upstream, tmp_path: Path
) -> None:
    async with a_gateway(settings_for(upstream, tmp_path)) as gateway:
        response, elapsed = await timed(
            gateway.client.get("/v1/tasks/t1/slow", headers=gateway.auth)
        )

        body = assert_problem(response, 504)
        assert elapsed < 0.4 + 0.3
        assert "catalog" in body["detail"]
        for leak in ("127.0.0.1", str(upstream.port), "ReadTimeout", "Traceback"):
            assert leak not in response.text
        await asyncio.sleep(0.9)  # the upstream finishes the request it was given
        assert upstream.hits_on("GET", "/v1/tasks/t1/slow") == 1


# Retries: only idempotent requests, only when they never reached the upstream


async def start_while_the_gateway_backs_off(gateway: Gateway, upstream: Upstream) -> None:
    await eventually(lambda: gateway.breaker().failures == 1)
    await upstream.start()


async def test_a_get_that_could_not_connect_is_retried_once_and_succeeds(
    upstream: Upstream, tmp_path: Path
) -> None:
    settings = settings_for(upstream, tmp_path, upstream_retry_backoff_s=0.3)
    async with a_gateway(settings) as gateway:
        await upstream.stop()

        request = asyncio.create_task(gateway.client.get("/v1/tasks/t7", headers=gateway.auth))
        await start_while_the_gateway_backs_off(gateway, upstream)
        response = await request

        assert response.status_code == 200
        assert response.json() == {"id": "t7"}
        assert upstream.hits_on("GET", "/v1/tasks/t7") == 1


async def test_a_put_with_a_small_body_is_retried_with_the_whole_body(
    upstream: Upstream, tmp_path: Path
) -> None:
    settings = settings_for(upstream, tmp_path, upstream_retry_backoff_s=0.3)
    async with a_gateway(settings) as gateway:
        await upstream.stop()

        request = asyncio.create_task(
            gateway.client.put("/v1/tasks/t7", json={"title": "Data audit"}, headers=gateway.auth)
        )
        await start_while_the_gateway_backs_off(gateway, upstream)
        response = await request

        assert response.status_code == 200
        assert response.json() == {"title": "Data audit"}
        assert upstream.hits_on("PUT", "/v1/tasks/t7") == 1


async def test_a_post_is_never_retried(upstream: Upstream, tmp_path: Path) -> None:
    settings = settings_for(upstream, tmp_path, upstream_retry_backoff_s=0.3)
    async with a_gateway(settings) as gateway:
        await upstream.stop()

        request = asyncio.create_task(
            gateway.client.post("/v1/tasks", json={"title": "x"}, headers=gateway.auth)
        )
        await start_while_the_gateway_backs_off(gateway, upstream)
        response = await request
        await asyncio.sleep(0.5)  # past the backoff a retry would have waited

        assert_problem(response, 503)
        assert upstream.hits_on("POST", "/v1/tasks") == 0


async def test_a_put_whose_body_is_streamed_is_not_retried(
    upstream: Upstream, tmp_path: Path
) -> None:
    settings = settings_for(upstream, tmp_path, upstream_retry_backoff_s=0.3)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": '
        yield b'"streamed"}'

    async with a_gateway(settings) as gateway:
        await upstream.stop()

        request = asyncio.create_task(
            gateway.client.put("/v1/tasks/t7", content=chunks(), headers=gateway.auth)
        )
        await start_while_the_gateway_backs_off(gateway, upstream)
        response = await request
        await asyncio.sleep(0.5)

        assert_problem(response, 503)
        assert upstream.hits_on("PUT", "/v1/tasks/t7") == 0


# Limits


async def test_past_the_burst_an_address_gets_429_with_retry_after(
    upstream: Upstream, tmp_path: Path
) -> None:
    settings = settings_for(upstream, tmp_path, rate_limit_ip_per_s=0.1, rate_limit_ip_burst=3)
    async with a_gateway(settings) as gateway:
        allowed = [await gateway.client.get("/v1/tasks/t1", headers=gateway.auth) for _ in range(3)]
        refused = await gateway.client.get("/v1/tasks/t1", headers=gateway.auth)

        assert [r.status_code for r in allowed] == [200, 200, 200]
        assert allowed[0].headers["ratelimit-limit"] == "3"
        assert allowed[0].headers["ratelimit-remaining"] == "2"
        body = assert_problem(refused, 429)
        assert "retry" in body["detail"]
        assert refused.headers["retry-after"] == "10"
        assert refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert upstream.hits_on("GET", "/v1/tasks/t1") == 3


async def test_each_subject_has_its_own_budget_after_authentication(
    upstream: Upstream, tmp_path: Path
) -> None:
    settings = settings_for(
        upstream, tmp_path, rate_limit_subject_per_s=0.5, rate_limit_subject_burst=2
    )
    other = {"Authorization": f"Bearer {mint_local_token(settings, 'worker-9', ['worker'])}"}
    async with a_gateway(settings) as gateway:
        mine = [
            (await gateway.client.get("/v1/tasks/t1", headers=gateway.auth)).status_code
            for _ in range(3)
        ]
        theirs = await gateway.client.get("/v1/tasks/t1", headers=other)
        refused = await gateway.client.get("/v1/tasks/t1", headers=gateway.auth)

        assert mine == [200, 200, 429]
        assert theirs.status_code == 200
        assert theirs.headers["ratelimit-remaining"] == "1"
        assert_problem(refused, 429)
        assert refused.headers["retry-after"] == "2"
        assert upstream.hits_on("GET", "/v1/tasks/t1") == 3


async def test_a_body_over_the_limit_is_a_413_and_the_upstream_completes_nothing(
    upstream: Upstream, tmp_path: Path
) -> None:
    settings = settings_for(
        upstream, tmp_path, max_body_bytes=1000, max_body_bytes_by_path={r"/v1/tasks:bulk": 5000}
    )

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 400

    async with a_gateway(settings) as gateway:
        declared = await gateway.client.post("/v1/tasks", content=b"x" * 1001, headers=gateway.auth)
        streamed = await gateway.client.post("/v1/tasks", content=chunked(), headers=gateway.auth)
        bulk = await gateway.client.post(
            "/v1/tasks:bulk", content=b"x" * 4000, headers=gateway.auth
        )

        assert_problem(declared, 413)
        assert_problem(streamed, 413)
        assert upstream.hits_on("POST", "/v1/tasks") == 0
        assert bulk.status_code == 200
        assert bulk.json() == {"bytes": 4000}


async def test_headers_over_the_limit_are_a_431_and_never_reach_the_upstream(
    upstream: Upstream, tmp_path: Path
) -> None:
    async with a_gateway(settings_for(upstream, tmp_path)) as gateway:
        response = await gateway.client.get(
            "/v1/tasks/t1", headers={**gateway.auth, "X-Padding": "p" * 17_000}
        )

        assert_problem(response, 431)
        assert upstream.hits_on("GET", "/v1/tasks/t1") == 0


# Compression


async def test_a_large_json_answer_is_gzipped_for_a_client_that_accepts_it(
    upstream: Upstream, tmp_path: Path
) -> None:
    async with a_gateway(settings_for(upstream, tmp_path)) as gateway:
        headers = {**gateway.auth, "Accept-Encoding": "gzip"}
        large = await gateway.client.get("/v1/tasks/t1/report", headers=headers)
        small = await gateway.client.get("/v1/tasks/t1", headers=headers)
        plain = await gateway.client.get(
            "/v1/tasks/t1/report", headers={**gateway.auth, "Accept-Encoding": "identity"}
        )

        assert large.headers["content-encoding"] == "gzip"
        assert int(large.headers["content-length"]) < len(json.dumps(REPORT)) / 4
        assert large.json() == REPORT
        assert "accept-encoding" in large.headers["vary"].lower()
        assert "content-encoding" not in small.headers
        assert "content-encoding" not in plain.headers
        assert plain.json() == REPORT


async def test_an_answer_the_upstream_already_encoded_is_not_compressed_twice(
    upstream: Upstream, tmp_path: Path
) -> None:
    async with a_gateway(settings_for(upstream, tmp_path)) as gateway:
        response = await gateway.client.get(
            "/v1/tasks/t1/archive", headers={**gateway.auth, "Accept-Encoding": "gzip"}
        )

        assert response.headers["content-encoding"] == "gzip"
        assert response.json() == REPORT


async def test_ndjson_is_streamed_as_it_is(upstream: Upstream, tmp_path: Path) -> None:
    async with a_gateway(settings_for(upstream, tmp_path)) as gateway:
        response = await gateway.client.get(
            "/v1/tasks/t1/lines", headers={**gateway.auth, "Accept-Encoding": "gzip"}
        )

        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        assert response.content == LINES
