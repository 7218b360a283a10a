"""Gateway settings: the kernel's `TASKFORCE_*` variables plus where each upstream service lives."""

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

    def upstream_urls(self) -> dict[str, str]:
        """Base URL by upstream name; the names are the ones the route table uses."""
        return {
            "catalog": self.catalog_url,
            "profiles": self.profiles_url,
            "matching": self.matching_url,
        }
