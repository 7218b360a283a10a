"""The transport under the gateway's upstream clients: httpx's interface over aiohttp's
connection pool. httpx's own pool (httpcore on anyio) cost about 40% of the gateway's CPU per
proxied request (docs/benchmarks.md, Gateway benchmark). Each aiohttp failure becomes the
httpx exception that says what it proves, since the proxy's retries, breaker and 502/503/504
rest on that: no connection was made (ConnectError, ConnectTimeout), the answer did not come
in time (ReadTimeout), or it broke (RemoteProtocolError). No redirects, no decompression, no
cookies, no headers of its own: it sends the request as the proxy built it."""

from collections.abc import AsyncIterator

import aiohttp
import httpx
from yarl import URL

# Below uvicorn's 5 s keep-alive, so the pool does not offer a connection the upstream is
# about to close.
KEEPALIVE_S = 4.0
# aiohttp would add these when the request lacks them; a proxy adds nothing.
NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def transport_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception for an aiohttp failure, by what it proves about the upstream."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(message, request=request)
    # Connected, then the exchange broke: reset, closed early, malformed or cut-off answer.
    return httpx.RemoteProtocolError(message, request=request)


class _RequestBody:
    """The request's body for aiohttp, remembering a failure of its own source (a body over
    the size limit, a client gone), which is the caller's problem and not the upstream's."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        self.failure: Exception | None = None

    def data(self) -> bytes | AsyncIterator[bytes] | None:
        try:
            return self.request.content or None
        except httpx.RequestNotRead:
            return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.request.stream:  # type: ignore[union-attr]
                yield chunk
        except Exception as exc:
            self.failure = exc
            raise


class _ResponseBody(httpx.AsyncByteStream):
    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self.answer, self.request = answer, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.answer.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(exc, self.request) from exc

    async def aclose(self) -> None:
        # Back to the pool when read to the end; closed otherwise.
        self.answer.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (its pool of up to `max_connections`), opened on first use inside
    the running event loop and closed with the httpx client."""

    def __init__(self, max_connections: int = 100) -> None:
        self.max_connections = max_connections
        self.session: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_connections, keepalive_timeout=KEEPALIVE_S
                ),
                # One client serves every caller: an upstream's cookie must reach no one else.
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=NO_AUTO_HEADERS,
                auto_decompress=False,
                trust_env=False,
            )
        return self.session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        connect_s, pool_s = timeout.get("connect"), timeout.get("pool")
        body = _RequestBody(request)
        # aiohttp frames a streamed body itself (chunked unless Content-Length is given).
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in request.headers.raw
            if name.lower() != b"transfer-encoding"
        ]
        try:
            answer = await self._session().request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=body.data(),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    # aiohttp's `connect` spans the wait for a pooled connection and the connect.
                    connect=None if connect_s is None or pool_s is None else connect_s + pool_s,
                    sock_connect=connect_s,
                    sock_read=timeout.get("read"),
                ),
            )
        except Exception as exc:
            if body.failure is not None:
                raise body.failure from exc
            if isinstance(exc, (aiohttp.ClientError, TimeoutError)):
                raise transport_error(exc, request) from exc
            raise
        return httpx.Response(
            answer.status,
            headers=list(answer.raw_headers),
            stream=_ResponseBody(answer, request),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (answer.reason or "").encode("latin-1"),
            },
        )

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()
