"""The profiles service: its spec and the app factory (`uvicorn --factory
services.profiles.main:create_app`)."""

from pathlib import Path

from fastapi import FastAPI

from services.kernel.contracts.profiles import SKILLS_TOPIC, WORKERS_TOPIC
from services.kernel.runtime import ServiceSpec, create_service_app
from services.profiles import api
from services.profiles.service import snapshot_profiles
from services.profiles.settings import ProfilesSettings

SPEC = ServiceSpec(
    name="profiles",
    title="Taskforce profiles",
    description="The skills taxonomy and workers' skill profiles: skills with level and "
    "provenance, aspirations and the hours people can give.",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[api.router],
    publishes=[SKILLS_TOPIC, WORKERS_TOPIC],
    consumers=[],
    snapshot=snapshot_profiles,
)


def create_app(settings: ProfilesSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or ProfilesSettings())
