"""Gateway settings: the kernel's `TASKFORCE_*` variables plus where each upstream service lives."""

from pathlib import Path

from services.kernel.settings import KernelSettings


class GatewaySettings(KernelSettings):
    service_name: str = "gateway"
    port: int = 8080
    catalog_url: str = "http://127.0.0.1:8081"
    profiles_url: str = "http://127.0.0.1:8082"
    matching_url: str = "http://127.0.0.1:8083"
    # A down upstream must fail fast (503); a slow one may legitimately take a while (solver runs).
    upstream_connect_timeout_s: float = 1.0
    upstream_read_timeout_s: float = 15.0
    openapi_cache_s: float = 10
    # Embedded mode's machine clients (`taskforce clients add`) and their tokens' lifetime.
    oauth_clients_file: Path = Path("var/oauth-clients.json")
    oauth_token_ttl_s: int = 3600
    # Token requests per client address (each costs a scrypt hash); a rate of 0 turns it off.
    oauth_token_per_s: float = 1.0
    oauth_token_burst: int = 10
    # Limits and resilience (protection.py, ratelimit.py, breaker.py). Bodies: the kernel's
    # `max_body_bytes` (1 MiB), larger only on the routes that take bulk data (path regex),
    # mirroring the owning services' own limits.
    max_body_bytes_by_path: dict[str, int] = {
        r"/v1/tasks:bulk": 20 * 1024 * 1024,
        r"/v1/workers:bulk": 50 * 1024 * 1024,
        r"/v1/job-imports": 200 * 1024 * 1024,
        r"/v1/skill-imports": 200 * 1024 * 1024,
    }
    max_header_bytes: int = 16 * 1024
    # Token buckets per replica; a rate of 0 turns that limit off.
    rate_limit_ip_per_s: float = 100.0
    rate_limit_ip_burst: int = 200
    rate_limit_subject_per_s: float = 50.0
    rate_limit_subject_burst: int = 100
    rate_limit_max_keys: int = 50_000
    # Proxies (addresses or CIDR networks) whose X-Forwarded-For names the client.
    trusted_proxies: list[str] = []
    cors_origins: list[str] = []
    # TLS terminates in front of the gateway: send Strict-Transport-Security.
    tls_in_front: bool = False
    gzip_min_bytes: int = 1024
    breaker_threshold: int = 5
    breaker_cooldown_s: float = 5.0
    # Extra attempts for an idempotent request that never reached its upstream.
    upstream_retries: int = 1
    upstream_retry_backoff_s: float = 0.05

    def upstream_urls(self) -> dict[str, str]:
        """Base URL by upstream name; the names are the ones the route table uses."""
        return {
            "catalog": self.catalog_url,
            "profiles": self.profiles_url,
            "matching": self.matching_url,
        }
