"""The profiles service: its spec and the app factory (`uvicorn --factory
services.profiles.main:create_app`)."""

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.contracts.profiles import SKILLS_TOPIC, WORKERS_TOPIC
from services.kernel.runtime import ServiceSpec, create_service_app
from services.profiles import api
from services.profiles.consumers import CONSUMERS
from services.profiles.imports import fail_interrupted_imports
from services.profiles.settings import ProfilesSettings
from services.profiles.skills import new_label_cache, snapshot_skills
from services.profiles.workers import snapshot_workers


async def snapshot_profiles(session: AsyncSession) -> int:
    """Skills first, so a consumer knows every skill a worker refers to."""
    return await snapshot_skills(session) + await snapshot_workers(session)


SPEC = ServiceSpec(
    name="profiles",
    title="Taskforce profiles",
    description="The skills taxonomy and workers' skill profiles: skills with level and "
    "provenance, aspirations, availability and the hours people can give.",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[api.router],
    publishes=[SKILLS_TOPIC, WORKERS_TOPIC],
    consumers=CONSUMERS,
    snapshot=snapshot_profiles,
    on_start=fail_interrupted_imports,
    large_bodies={r"/v1/skill-imports": 200 * 1024 * 1024, r"/v1/workers:bulk": 50 * 1024 * 1024},
)


def create_app(settings: ProfilesSettings | None = None) -> FastAPI:
    app = create_service_app(SPEC, settings or ProfilesSettings())
    app.state.labels = new_label_cache()
    return app
