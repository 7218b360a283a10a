"""Catalog settings: the kernel's `TASKFORCE_*` variables with this service's defaults."""

from services.kernel.settings import KernelSettings


class CatalogSettings(KernelSettings):
    service_name: str = "catalog"
    port: int = 8081
    database_url: str = "sqlite+aiosqlite:///var/catalog.db"
