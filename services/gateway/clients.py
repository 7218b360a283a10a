"""One httpx client per upstream, opened in the app's lifespan, and the streaming proxy behind
each upstream's circuit breaker. Retries only what is safe: an idempotent request, with a body
it can send again, that never reached the upstream; anything else gets `Retry-After`."""

import asyncio
import logging
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from services.gateway.breaker import Breaker, CircuitOpen
from services.gateway.settings import GatewaySettings
from services.gateway.transport import AiohttpTransport
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
# RFC 9110 §9.2.2: sending these twice has the effect of sending them once.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Failures that prove the request never left: the only ones worth a retry.
NEVER_REACHED = (httpx.ConnectError, httpx.ConnectTimeout)
# An idempotent request's body up to this size is read first, so it can be sent again.
REPLAYABLE_BODY_BYTES = 64 * 1024
RETRY_BACKOFF_MAX_S = 0.5
# An answer with a declared length up to this size is read whole before it is passed on.
HELD_ANSWER_BYTES = 64 * 1024


def open_clients(settings: GatewaySettings) -> dict[str, httpx.AsyncClient]:
    timeout = httpx.Timeout(
        connect=settings.upstream_connect_timeout_s,
        read=settings.upstream_read_timeout_s,
        write=settings.upstream_read_timeout_s,
        pool=settings.upstream_connect_timeout_s,
    )
    return {
        name: httpx.AsyncClient(
            base_url=url,
            timeout=timeout,
            follow_redirects=False,
            transport=AiohttpTransport(),
            # One client serves every caller: a cookie an upstream set for one must never ride
            # along on another's request, so the jar accepts none.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )
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


def context_headers() -> Headers:
    """This request's `X-Request-ID` and `traceparent`, for every call to an upstream."""
    headers: Headers = []
    for name, var in ((b"x-request-id", request_id_var), (b"traceparent", traceparent_var)):
        value = var.get()
        if value:
            headers.append((name, value.encode("latin-1")))
    return headers


def transport_problem(upstream: str, exc: httpx.TransportError) -> Response:
    """What the client gets when `upstream` could not be asked or gave no usable answer:
    503 (unreachable), 504 (no answer in time) or 502 (broken answer), naming no address."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        log.warning("upstream %s unreachable: %s", upstream, type(exc).__name__)
        return problem(
            503,
            "Service unavailable",
            f"The {upstream} service is unavailable; retry later.",
            "unavailable",
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, httpx.TimeoutException):
        log.warning("upstream %s timed out: %s", upstream, type(exc).__name__)
        return problem(
            504,
            "Gateway timeout",
            f"The {upstream} service did not answer in time.",
            "gateway-timeout",
        )
    log.warning("upstream %s failed: %s", upstream, type(exc).__name__)
    return problem(
        502, "Bad gateway", f"The {upstream} service gave no valid answer.", "bad-gateway"
    )


def _upstream_headers(request: Request) -> Headers:
    headers = [
        (name, value)
        for name, value in end_to_end(request.headers.raw)
        if name.lower() not in CONTEXT_HEADERS
    ]
    headers.extend(context_headers())
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


async def send_guarded(
    client: httpx.AsyncClient,
    breaker: Breaker,
    outgoing: httpx.Request,
    retries: int = 0,
    backoff_s: float = 0.05,
) -> httpx.Response:
    """Send `outgoing` (answer streamed) through the upstream's circuit breaker. `retries`
    more attempts follow a failure to connect, the one failure that proves the upstream never
    saw the request; give 0 unless the request is idempotent and its body can be sent again.
    Raises `CircuitOpen` or the last `httpx.TransportError`."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(1 + retries),
        wait=wait_exponential(multiplier=backoff_s, max=RETRY_BACKOFF_MAX_S),
        retry=retry_if_exception_type(NEVER_REACHED),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            breaker.admit()
            try:
                answer = await client.send(outgoing, stream=True)
            except (httpx.ConnectError, httpx.TimeoutException):
                breaker.failed()
                raise
            except BaseException:
                breaker.abandoned()
                raise
            breaker.succeeded()
            return answer
    raise AssertionError("unreachable: tenacity re-raises the last error")


def circuit_open_problem(upstream: str, exc: CircuitOpen) -> Response:
    """What the client gets while `upstream`'s circuit is open: no attempt was made."""
    return problem(
        503,
        "Service unavailable",
        f"The {upstream} service is unavailable; retry later.",
        "unavailable",
        headers={"Retry-After": str(exc.retry_after_s)},
    )


async def _replayable_body(request: Request) -> tuple[bytes | None, bool]:
    """The body to send if it can be sent twice (none, or small enough to hold), else None
    (stream it), and whether the request may be retried at all."""
    if request.method not in IDEMPOTENT:
        return None, False
    if "transfer-encoding" in request.headers:
        return None, False
    declared = request.headers.get("content-length")
    if declared is None:
        return b"", True
    if declared.isdigit() and int(declared) <= REPLAYABLE_BODY_BYTES:
        return await request.body(), True
    return None, False


async def proxy(
    request: Request,
    upstream: str,
    client: httpx.AsyncClient,
    breaker: Breaker,
    settings: GatewaySettings,
) -> Response:
    """Send `request` to `upstream` as it came (method, raw path, query, body, end-to-end
    headers) and stream the answer back; transport failures become 502, 503 or 504 problems.
    An idempotent request that never reached the upstream is tried again (`upstream_retries`)."""
    url = request.scope["raw_path"].decode("latin-1")
    if request.scope["query_string"]:
        url += "?" + request.scope["query_string"].decode("latin-1")
    held, replayable = await _replayable_body(request)
    has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
    streamed = request.stream() if has_body and held is None else None
    outgoing = client.build_request(
        request.method,
        url,
        headers=_upstream_headers(request),
        content=held if held else streamed,
    )
    retries = settings.upstream_retries if replayable else 0
    try:
        answer = await send_guarded(
            client, breaker, outgoing, retries, settings.upstream_retry_backoff_s
        )
    except CircuitOpen as exc:
        log.debug("upstream %s skipped: circuit open", upstream)
        return circuit_open_problem(upstream, exc)
    except httpx.TransportError as exc:
        return transport_problem(upstream, exc)
    # Raw headers keep repeated ones (Set-Cookie) that a mapping would merge.
    headers = [
        (name, value)
        for name, value in end_to_end(answer.headers.raw)
        if name.lower() not in SERVER_WRITTEN
    ]
    length = answer.headers.get("content-length", "")
    if length.isdigit() and int(length) <= HELD_ANSWER_BYTES:
        return await _held_answer(upstream, answer, headers)

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
    response.raw_headers = headers
    return response


async def _held_answer(upstream: str, answer: httpx.Response, headers: Headers) -> Response:
    """A small answer read whole: one body message (so gzip can judge its size), and a
    failure while reading it is still a clean 502."""
    try:
        content = b"".join([chunk async for chunk in answer.aiter_raw()])
    except httpx.TransportError as exc:
        return transport_problem(upstream, exc)
    finally:
        await answer.aclose()
    response = Response(content, status_code=answer.status_code)
    response.raw_headers = headers
    return response


async def upstream_check(client: httpx.AsyncClient, breaker: Breaker) -> str:
    """An upstream's line in `/readyz`: `ok`, `not ready`, or `circuit open` (not probed: a
    dead upstream costs nothing while its breaker is open)."""
    if breaker.state == "open":
        return "circuit open"
    answer = await probe(client, "/readyz")
    return "ok" if answer is not None and answer.status_code == 200 else "not ready"


async def probe(client: httpx.AsyncClient, path: str) -> httpx.Response | None:
    """GET `path` on an upstream with a short timeout; None when it cannot be reached."""
    timeout = httpx.Timeout(PROBE_READ_TIMEOUT_S, connect=client.timeout.connect)
    try:
        return await client.get(path, timeout=timeout)
    except httpx.TransportError:
        return None
