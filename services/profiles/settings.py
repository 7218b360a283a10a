"""Profiles settings: the kernel's `TASKFORCE_*` variables with this service's defaults."""

from services.kernel.settings import KernelSettings


class ProfilesSettings(KernelSettings):
    service_name: str = "profiles"
    port: int = 8082
    database_url: str = "sqlite+aiosqlite:///var/profiles.db"
