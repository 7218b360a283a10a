"""Rate limits of the gateway, token buckets kept in this process: per client address for every
request (before authentication, so a flood of bad tokens is stopped too) and per verified
token subject for the API. Each replica limits on its own. No I/O; the clock is injected."""

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.kernel.auth import CurrentUser, User
from services.kernel.errors import DomainError, problem
from services.kernel.limits import ASGIApp, Message, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int

    def budget_headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
        ]

    def headers(self) -> dict[str, str]:
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


class TokenBuckets:
    """One bucket per key, refilled at `rate_per_s` up to `burst`; a request takes a token.

    Memory is bounded: a bucket idle long enough to be full again is forgotten (it would
    behave exactly like a new one), and past `max_keys` the least recently used go first,
    so a caller rotating addresses cannot grow memory without bound."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        max_keys: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s, self.burst, self.max_keys, self.clock = rate_per_s, burst, max_keys, clock
        # key -> (tokens, updated_at); least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> Verdict:
        now = self.clock()
        tokens, updated_at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated_at) * self.rate_per_s)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        self._forget(now)
        wait_s = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate_per_s))
        return Verdict(allowed, self.burst, int(tokens), wait_s)

    def _forget(self, now: float) -> None:
        while self._buckets:
            tokens, updated_at = next(iter(self._buckets.values()))
            full_again = tokens + (now - updated_at) * self.rate_per_s >= self.burst
            if not full_again and len(self._buckets) <= self.max_keys:
                return
            self._buckets.popitem(last=False)


def trusted_networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks (`10.0.0.0/8`) of the proxies allowed to name the client."""
    return tuple(ipaddress.ip_network(address.strip(), strict=False) for address in addresses)


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The socket peer, unless it is a trusted proxy: then the right-most address in
    `X-Forwarded-For` that is not one of ours (the left part is the client's own word)."""
    peer = scope["client"][0] if scope.get("client") else ""
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = b",".join(v for n, v in scope.get("headers") or [] if n == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def address_key(address: str) -> str:
    """IPv6 clients are limited per /64, the block one subscriber usually holds."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimited(DomainError):
    status, title, slug = 429, "Too many requests", "rate-limited"


def refusal(verdict: Verdict, whose: str) -> RateLimited:
    return RateLimited(
        f"Too many requests from this {whose}; retry in {verdict.retry_after_s} s.",
        headers=verdict.headers(),
    )


class AddressRateLimit:
    """Pure ASGI: one token per HTTP request from the client's address; over the limit, a 429
    problem before anything else runs. Every answer carries the `RateLimit-*` headers of the
    tighter of this limit and the subject's (which the route leaves in the scope's state)."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets, trusted: tuple[Network, ...]) -> None:
        self.app, self.buckets, self.trusted = app, buckets, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        verdict = self.buckets.take(address_key(client_address(scope, self.trusted)))
        if not verdict.allowed:
            refused = refusal(verdict, "address")
            response = problem(
                refused.status, refused.title, refused.detail, refused.slug, headers=refused.headers
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                subject = (scope.get("state") or {}).get("subject_rate_limit")
                tightest = min((verdict, subject or verdict), key=lambda v: v.remaining)
                message["headers"] = [
                    *(h for h in message.get("headers", []) if not h[0].startswith(b"ratelimit-")),
                    *tightest.budget_headers(),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def subject_limited(request: Request, user: User) -> CurrentUser:
    """The verified caller, once their own bucket (keyed by the token's `sub`) gave a token.
    Shares FastAPI's per-request cache of `current_user`: the token is verified once. Async,
    so the buckets are only ever touched from the event loop, never from worker threads."""
    buckets: TokenBuckets | None = request.app.state.subject_buckets
    if buckets is None:
        return user
    verdict = buckets.take(user.sub)
    request.state.subject_rate_limit = verdict
    if not verdict.allowed:
        raise refusal(verdict, "caller")
    return user


RateLimitedUser = Annotated[CurrentUser, Depends(subject_limited)]
