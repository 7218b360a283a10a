"""The gateway's front-door protection, installed in one call: security headers, gzip, CORS,
the header size limit (431), the per-address rate limit (429) and the body size limit (413),
plus the upstreams' circuit breakers and their gauge. Middleware only: no routes, no I/O."""

import base64
import hashlib
import re

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from services.gateway.breaker import open_breakers, register_breaker_gauge
from services.gateway.ratelimit import AddressRateLimit, TokenBuckets, trusted_networks
from services.gateway.settings import GatewaySettings
from services.kernel.errors import problem
from services.kernel.limits import ASGIApp, BodyLimit, Message, Receive, Scope, Send

# JSON is never a document to render, frame or run scripts from.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI loads its script and style from the CDN FastAPI points at, runs one inline script
# (allowed by its hash, computed from the page itself) and fetches the document from here.
DOCS_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net {script_hashes}; "
    "style-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PATH = "/docs"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
HSTS = "max-age=31536000; includeSubDomains"
# API answers carry personal data; a shared or browser cache must not keep them unless the
# owning service said otherwise (the mobile routes send their own `Cache-Control`).
PERSONAL_PREFIX = "/v1/"
CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-None-Match",
    "If-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Retry-After",
    "X-Request-ID",
    "Location",
    "RateLimit-Limit",
    "RateLimit-Remaining",
]
CORS_MAX_AGE_S = 600
# NDJSON streams line by line to bulk clients; compressing it would hold lines back.
GZIP_EXCLUDED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/x-ndjson")
# zlib's own default: level 9 costs several times the CPU for a few per cent.
GZIP_LEVEL = 6


def _security_headers(tls_in_front: bool) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": API_CSP,
    }
    if tls_in_front:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def docs_csp(page: bytes) -> str:
    """The docs page's policy, allowing exactly the inline scripts `page` holds."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(page)
    )
    return DOCS_CSP.format(script_hashes=hashes)


class SecurityHeaders:
    """Pure ASGI: the gateway's security headers on every response, overriding an upstream's;
    `Cache-Control: no-store` on API responses that did not set their own."""

    def __init__(self, app: ASGIApp, tls_in_front: bool) -> None:
        self.app = app
        self.fixed = _security_headers(tls_in_front)
        self.fixed_raw = [(k.lower().encode(), v.encode()) for k, v in self.fixed.items()]
        self.replaced = {name for name, _ in self.fixed_raw}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == DOCS_PATH:
            await self._docs(scope, receive, send)
            return
        personal = path.startswith(PERSONAL_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h for h in message.get("headers", []) if h[0].lower() not in self.replaced
                ]
                headers.extend(self.fixed_raw)
                if personal and not any(h[0].lower() == b"cache-control" for h in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The page is a couple of kilobytes: hold it to hash its inline script.
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                page = b"".join(m.get("body", b"") for m in held[1:])
                headers = MutableHeaders(scope=held[0])
                for name, value in {
                    **self.fixed,
                    "Content-Security-Policy": docs_csp(page),
                }.items():
                    headers[name] = value
                for each in held:
                    await send(each)

        await self.app(scope, receive, hold)


def header_bytes(scope: Scope) -> int:
    """The request's header block as sent: each `name: value` line and its CRLF."""
    return sum(len(name) + len(value) + 4 for name, value in scope.get("headers") or [])


class HeaderLimit:
    """Pure ASGI: a request whose headers add up to more than `max_bytes` gets 431."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and header_bytes(scope) > self.max_bytes:
            response = problem(
                431,
                "Request header fields too large",
                f"The request headers add up to more than {self.max_bytes} bytes.",
                "headers-too-large",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install_protection(
    app: FastAPI, settings: GatewaySettings, registry: CollectorRegistry
) -> None:
    """Add the middleware (outermost first: gzip, security headers, CORS, header limit,
    address rate limit, body limit), set `app.state.breakers` and `app.state.subject_buckets`
    (None when the per-subject limit is off), and register the breakers' gauge."""
    app.state.breakers = open_breakers(
        list(settings.upstream_urls()), settings.breaker_threshold, settings.breaker_cooldown_s
    )
    register_breaker_gauge(registry, app.state.breakers)
    app.state.subject_buckets = (
        TokenBuckets(
            settings.rate_limit_subject_per_s,
            settings.rate_limit_subject_burst,
            settings.rate_limit_max_keys,
        )
        if settings.rate_limit_subject_per_s > 0
        else None
    )
    # Each token request costs a scrypt hash (tens of ms of CPU): a much tighter limit per
    # address than the API's, checked by the endpoint itself.
    app.state.trusted_proxies = trusted_networks(settings.trusted_proxies)
    app.state.oauth_buckets = (
        TokenBuckets(
            settings.oauth_token_per_s, settings.oauth_token_burst, settings.rate_limit_max_keys
        )
        if settings.oauth_token_per_s > 0
        else None
    )
    # Starlette wraps the app in reverse order of addition: the last added runs first.
    app.add_middleware(
        BodyLimit,
        default_bytes=settings.max_body_bytes,
        overrides=settings.max_body_bytes_by_path,
    )
    if settings.rate_limit_ip_per_s > 0:
        buckets = TokenBuckets(
            settings.rate_limit_ip_per_s, settings.rate_limit_ip_burst, settings.rate_limit_max_keys
        )
        app.add_middleware(AddressRateLimit, buckets=buckets, trusted=app.state.trusted_proxies)
    app.add_middleware(HeaderLimit, max_bytes=settings.max_header_bytes)
    if settings.cors_origins:
        # Outside the limits, so a browser can read a 429 or 413; a preflight is answered here,
        # without a token. Bearer tokens, not cookies: no credentials mode.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            max_age=CORS_MAX_AGE_S,
        )
    app.add_middleware(SecurityHeaders, tls_in_front=settings.tls_in_front)
    # Outermost, so the docs page is hashed before it is compressed. An upstream answer that
    # is already encoded passes through as it is.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=settings.gzip_min_bytes,
        compresslevel=GZIP_LEVEL,
        exclude_content_types=GZIP_EXCLUDED,
    )
