"""The catalog service: its spec and the app factory (`uvicorn --factory
services.catalog.main:create_app`)."""

from pathlib import Path

from fastapi import FastAPI

from services.catalog import api, jobs_api
from services.catalog.consumers import CONSUMERS
from services.catalog.job_imports import fail_interrupted_job_imports
from services.catalog.jobs import new_label_cache
from services.catalog.service import snapshot_tasks
from services.catalog.settings import CatalogSettings
from services.kernel.contracts.catalog import TASKS_TOPIC
from services.kernel.runtime import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="catalog",
    title="Taskforce catalog",
    description="Tasks, projects and gigs deconstructed from jobs: their skills, effort, dates, "
    "seats and lifecycle.",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[api.router, jobs_api.router],
    publishes=[TASKS_TOPIC],
    consumers=CONSUMERS,
    large_bodies={r"/v1/tasks:bulk": 20 * 1024 * 1024, r"/v1/job-imports": 200 * 1024 * 1024},
    on_start=fail_interrupted_job_imports,
    snapshot=snapshot_tasks,
)


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    app = create_service_app(SPEC, settings or CatalogSettings())
    app.state.labels = new_label_cache()
    return app
