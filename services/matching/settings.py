"""Matching settings: the kernel's `TASKFORCE_*` variables with this service's defaults."""

from services.kernel.settings import KernelSettings


class MatchingSettings(KernelSettings):
    service_name: str = "matching"
    port: int = 8083
    database_url: str = "sqlite+aiosqlite:///var/matching.db"
