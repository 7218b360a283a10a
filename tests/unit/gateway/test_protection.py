"""The gateway's front-door protection without any upstream: token buckets on a hand-moved
clock, the client address behind trusted proxies, and the middleware on the gateway app
(security headers, the header limit, CORS preflight, the per-address rate limit)."""

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.gateway.main import create_app
from services.gateway.ratelimit import (
    TokenBuckets,
    address_key,
    client_address,
    trusted_networks,
)
from services.gateway.settings import GatewaySettings

ORIGIN = "https://gigs.example.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Token buckets


def test_a_bucket_allows_its_burst_then_refuses_with_the_wait_until_the_next_token() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=0.5, burst=3, max_keys=10, clock=clock)

    verdicts = [buckets.take("alice") for _ in range(4)]

    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert verdicts[-1].retry_after_s == 2  # one token at 0.5/s
    assert verdicts[-1].headers() == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "Retry-After": "2",
    }


def test_a_bucket_refills_at_its_rate_and_never_beyond_its_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=2, burst=3, max_keys=10, clock=clock)
    for _ in range(3):
        buckets.take("alice")

    clock.now += 0.5
    assert buckets.take("alice").allowed
    assert not buckets.take("alice").allowed

    clock.now += 3600
    assert [buckets.take("alice").allowed for _ in range(4)] == [True, True, True, False]


def test_retry_after_is_a_whole_second_at_least_even_for_fast_buckets() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=100, burst=1, max_keys=10, clock=clock)
    buckets.take("alice")

    assert buckets.take("alice").retry_after_s == 1


def test_callers_have_their_own_buckets() -> None:
    buckets = TokenBuckets(rate_per_s=1, burst=1, max_keys=10, clock=Clock())

    assert buckets.take("alice").allowed
    assert buckets.take("bob").allowed
    assert not buckets.take("alice").allowed


def test_rotating_keys_cannot_grow_memory_beyond_the_bound() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=1, burst=5, max_keys=100, clock=clock)

    for i in range(10_000):
        buckets.take(f"10.0.{i // 256}.{i % 256}")

    assert len(buckets) == 100


def test_buckets_idle_long_enough_to_be_full_are_forgotten() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=1, burst=5, max_keys=1000, clock=clock)
    for i in range(50):
        buckets.take(f"client-{i}")
    clock.now += 0.5
    buckets.take("newcomer-1")
    assert len(buckets) == 51  # still refilling: forgetting them would hand out tokens

    clock.now += 1
    buckets.take("newcomer-2")

    assert len(buckets) == 1


def test_a_busy_callers_bucket_survives_a_flood_of_idle_ones_being_forgotten() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=1, burst=2, max_keys=1000, clock=clock)
    buckets.take("attacker")
    buckets.take("attacker")
    for i in range(100):
        clock.now += 0.001
        buckets.take(f"other-{i}")

    assert not buckets.take("attacker").allowed


# Client address


def scope_of(peer: str, forwarded_for: list[str] | None = None) -> dict:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded_for or []]
    return {"type": "http", "client": (peer, 5000), "headers": headers}


def test_without_trusted_proxies_the_socket_peer_is_the_client_whatever_it_claims() -> None:
    scope = scope_of("203.0.113.9", ["1.2.3.4"])

    assert client_address(scope, trusted_networks([])) == "203.0.113.9"
    assert client_address(scope, trusted_networks(["10.0.0.0/8"])) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_right_most_untrusted_forwarded_address_is_the_client() -> None:
    trusted = trusted_networks(["10.0.0.0/8", "192.168.1.7"])
    # The client's own entry (spoofed) comes first; each proxy appends what it saw.
    scope = scope_of("10.1.2.3", ["6.6.6.6, 198.51.100.4", "192.168.1.7"])

    assert client_address(scope, trusted) == "198.51.100.4"


def test_a_chain_of_only_trusted_proxies_names_its_first_hop() -> None:
    trusted = trusted_networks(["10.0.0.0/8"])

    assert client_address(scope_of("10.0.0.2", ["10.0.0.9, 10.0.0.5"]), trusted) == "10.0.0.9"
    assert client_address(scope_of("10.0.0.2"), trusted) == "10.0.0.2"


def test_ipv6_clients_share_a_bucket_per_64_block() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("198.51.100.4") == "198.51.100.4"


# The middleware on the gateway app (no upstream is ever reached here)


def settings_for(tmp_path: Path, **overrides: object) -> GatewaySettings:
    return GatewaySettings(
        auth_local_key_file=tmp_path / "signing.key",
        log_json=False,
        catalog_url="http://127.0.0.1:9",
        profiles_url="http://127.0.0.1:9",
        matching_url="http://127.0.0.1:9",
        **overrides,
    )


async def a_gateway(
    settings: GatewaySettings, peer: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in a_gateway(settings_for(tmp_path, cors_origins=[ORIGIN])):
        yield client


async def test_every_response_carries_the_security_headers(gateway: httpx.AsyncClient) -> None:
    for response in [await gateway.get("/healthz"), await gateway.get("/v1/tasks")]:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers


async def test_api_responses_are_not_stored_by_caches_and_health_is_left_alone(
    gateway: httpx.AsyncClient,
) -> None:
    api = await gateway.get("/v1/workers/w1")

    assert api.status_code == 401
    assert api.headers["cache-control"] == "no-store"
    assert "cache-control" not in (await gateway.get("/healthz")).headers


async def test_hsts_is_sent_only_when_tls_terminates_in_front(tmp_path: Path) -> None:
    async for gateway in a_gateway(settings_for(tmp_path, tls_in_front=True)):
        response = await gateway.get("/healthz")

        assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_the_docs_page_may_run_exactly_its_own_inline_script_and_the_cdn(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/docs")

    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert script_src.split()[1:] == ["https://cdn.jsdelivr.net", f"'sha256-{digest}'"]
    assert "connect-src 'self'" in policy
    assert "'unsafe-inline'" not in script_src


async def test_headers_over_the_limit_are_refused_with_431(tmp_path: Path) -> None:
    async for gateway in a_gateway(settings_for(tmp_path, max_header_bytes=2048)):
        small = await gateway.get("/healthz", headers={"X-Note": "a" * 1000})
        large = await gateway.get("/healthz", headers={"X-Note": "a" * 2100})

        assert small.status_code == 200
        assert large.status_code == 431
        assert large.headers["content-type"] == "application/problem+json"
        assert large.json()["status"] == 431
        assert large.headers["x-content-type-options"] == "nosniff"


async def test_a_cors_preflight_needs_no_token_and_allows_the_apps_headers(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.options(
        "/v1/tasks",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key", "if-match"} <= {
        h.strip() for h in allowed.split(",")
    }


async def test_a_preflight_from_another_origin_is_refused(gateway: httpx.AsyncClient) -> None:
    response = await gateway.options(
        "/v1/tasks",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_the_app_can_read_an_errors_status_and_the_exposed_headers(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/v1/tasks", headers={"Origin": ORIGIN})

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "retry-after", "x-request-id", "location"} <= exposed


async def test_without_configured_origins_there_is_no_cors(tmp_path: Path) -> None:
    async for gateway in a_gateway(settings_for(tmp_path)):
        response = await gateway.get("/healthz", headers={"Origin": ORIGIN})

        assert "access-control-allow-origin" not in response.headers


async def test_clients_behind_a_trusted_proxy_are_limited_each_on_their_own(
    tmp_path: Path,
) -> None:
    settings = settings_for(
        tmp_path, rate_limit_ip_per_s=0.01, rate_limit_ip_burst=2, trusted_proxies=["10.0.0.0/8"]
    )
    async for gateway in a_gateway(settings, peer="10.0.0.3"):
        alice = {"X-Forwarded-For": "198.51.100.1"}
        bob = {"X-Forwarded-For": "198.51.100.2"}

        first = [(await gateway.get("/healthz", headers=alice)).status_code for _ in range(3)]
        second = (await gateway.get("/healthz", headers=bob)).status_code

        assert first == [200, 200, 429]
        assert second == 200


async def test_an_untrusted_peer_cannot_escape_its_limit_by_claiming_other_addresses(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, rate_limit_ip_per_s=0.01, rate_limit_ip_burst=2)
    async for gateway in a_gateway(settings, peer="203.0.113.50"):
        statuses = [
            (await gateway.get("/healthz", headers={"X-Forwarded-For": f"1.1.1.{i}"})).status_code
            for i in range(3)
        ]

        assert statuses == [200, 200, 429]
