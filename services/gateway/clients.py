"""One httpx client per upstream, opened in the app's lifespan, and the streaming proxy. Never
retries a request: it may not be idempotent, and the caller gets `Retry-After` instead."""

import asyncio
import logging

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from services.gateway.settings import GatewaySettings
from services.kernel.errors import problem
from services.kernel.observability import request_id_var, traceparent_var

log = logging.getLogger("taskforce.gateway")

Headers = list[tuple[bytes, bytes]]

# RFC 9110 §7.6.1: they describe one connection, not the message. Host names the gateway.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    }
)
# The gateway's own server writes these; forwarding the upstream's would send them twice.
SERVER_WRITTEN = frozenset({b"server", b"date"})
# Replaced by the gateway's values so that the upstream always sees this request's ids.
CONTEXT_HEADERS = frozenset({b"x-request-id", b"traceparent"})
# Health and docs probes answer an operator or a kubelet, who should not wait 15 s.
PROBE_READ_TIMEOUT_S = 2.0


def open_clients(settings: GatewaySettings) -> dict[str, httpx.AsyncClient]:
    timeout = httpx.Timeout(
        connect=settings.upstream_connect_timeout_s,
        read=settings.upstream_read_timeout_s,
        write=settings.upstream_read_timeout_s,
        pool=settings.upstream_connect_timeout_s,
    )
    return {
        name: httpx.AsyncClient(base_url=url, timeout=timeout, follow_redirects=False)
        for name, url in settings.upstream_urls().items()
    }


async def close_clients(clients: dict[str, httpx.AsyncClient]) -> None:
    await asyncio.gather(*(client.aclose() for client in clients.values()))


def end_to_end(headers: Headers) -> Headers:
    """`headers` without the hop-by-hop ones, including those the Connection header names."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [
        (name, value)
        for name, value in headers
        if name.lower() not in HOP_BY_HOP and name.lower() not in named
    ]


def _upstream_headers(request: Request) -> Headers:
    headers = [
        (name, value)
        for name, value in end_to_end(request.headers.raw)
        if name.lower() not in CONTEXT_HEADERS
    ]
    for name, var in ((b"x-request-id", request_id_var), (b"traceparent", traceparent_var)):
        value = var.get()
        if value:
            headers.append((name, value.encode("latin-1")))
    client_host = request.client.host if request.client else None
    if client_host:
        prior = request.headers.get("x-forwarded-for")
        forwarded_for = f"{prior}, {client_host}" if prior else client_host
        headers = [(n, v) for n, v in headers if n.lower() != b"x-forwarded-for"]
        headers.append((b"x-forwarded-for", forwarded_for.encode("latin-1")))
    if "x-forwarded-proto" not in request.headers:
        headers.append((b"x-forwarded-proto", request.url.scheme.encode("latin-1")))
    if "x-forwarded-host" not in request.headers and "host" in request.headers:
        headers.append((b"x-forwarded-host", request.headers["host"].encode("latin-1")))
    return headers


async def proxy(request: Request, upstream: str, client: httpx.AsyncClient) -> Response:
    """Send `request` to `upstream` as it came (method, raw path, query, body, end-to-end
    headers) and stream the answer back; transport failures become 502, 503 or 504 problems."""
    url = request.scope["raw_path"].decode("latin-1")
    if request.scope["query_string"]:
        url += "?" + request.scope["query_string"].decode("latin-1")
    has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
    outgoing = client.build_request(
        request.method,
        url,
        headers=_upstream_headers(request),
        content=request.stream() if has_body else None,
    )
    try:
        answer = await client.send(outgoing, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        log.warning("upstream %s unreachable: %s", upstream, type(exc).__name__)
        return problem(
            503,
            "Service unavailable",
            f"The {upstream} service is unavailable; retry later.",
            "unavailable",
            headers={"Retry-After": "1"},
        )
    except httpx.TimeoutException as exc:
        log.warning("upstream %s timed out: %s", upstream, type(exc).__name__)
        return problem(
            504,
            "Gateway timeout",
            f"The {upstream} service did not answer in time.",
            "gateway-timeout",
        )
    except httpx.TransportError as exc:
        log.warning("upstream %s failed: %s", upstream, type(exc).__name__)
        return problem(
            502, "Bad gateway", f"The {upstream} service gave no valid answer.", "bad-gateway"
        )

    async def body():  # type: ignore[no-untyped-def]
        try:
            # Raw bytes, so a compressed body keeps its Content-Encoding and Content-Length.
            async for chunk in answer.aiter_raw():
                yield chunk
        except httpx.TransportError as exc:
            # Too late for a problem response; aborting the connection tells the client.
            log.warning("upstream %s broke off its response: %s", upstream, type(exc).__name__)
            raise
        finally:
            await answer.aclose()

    # The background close also covers a client that disconnects mid-stream.
    response = StreamingResponse(
        body(), status_code=answer.status_code, background=BackgroundTask(answer.aclose)
    )
    # Raw headers keep repeated ones (Set-Cookie) that a mapping would merge.
    response.raw_headers = [
        (name, value)
        for name, value in end_to_end(answer.headers.raw)
        if name.lower() not in SERVER_WRITTEN
    ]
    return response


async def probe(client: httpx.AsyncClient, path: str) -> httpx.Response | None:
    """GET `path` on an upstream with a short timeout; None when it cannot be reached."""
    timeout = httpx.Timeout(PROBE_READ_TIMEOUT_S, connect=client.timeout.connect)
    try:
        return await client.get(path, timeout=timeout)
    except httpx.TransportError:
        return None
