"""The upstream transport (aiohttp under httpx) against an upstream that breaks HTTP on purpose,
a raw socket server: an answer cut short or not HTTP at all is a 502 problem+json that names
no address, and a request that reached the upstream is not sent again."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings
from services.kernel.auth import mint_local_token
from tests.integration.gateway.test_proxy import a_closed_port, assert_problem, bearer

CUT_SHORT = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
NOT_HTTP = b"SSH-2.0-OpenSSH_9.6\r\n\r\n"


@dataclass
class BrokenUpstream:
    url: str
    requests: int = 0


async def a_broken_upstream(answer: bytes) -> AsyncIterator[BrokenUpstream]:
    upstream = BrokenUpstream(url="")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        upstream.requests += 1
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    upstream.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield upstream


async def a_gateway_to(upstream: BrokenUpstream, key_file: Path) -> AsyncIterator[httpx.Response]:
    settings = GatewaySettings(
        auth_mode="local",
        auth_local_key_file=key_file,
        log_json=False,
        catalog_url=upstream.url,
        profiles_url=a_closed_port(),
        matching_url=a_closed_port(),
    )
    token = mint_local_token(settings, "manager-1", ["manager"])
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield await client.get("/v1/tasks/t1", headers=bearer(token))


@pytest.mark.parametrize("answer", [CUT_SHORT, NOT_HTTP], ids=["cut-short", "not-http"])
async def test_a_broken_answer_is_a_502_naming_no_address_and_is_not_sent_again(
    answer: bytes, tmp_path: Path
) -> None:
    async for upstream in a_broken_upstream(answer):
        async for response in a_gateway_to(upstream, tmp_path / "signing.key"):
            body = assert_problem(response, 502)
            assert body["detail"] == "The catalog service gave no valid answer."
            assert "127.0.0.1" not in response.text
            assert upstream.requests == 1
