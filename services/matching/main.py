"""The matching service: its spec and the app factory (`uvicorn --factory
services.matching.main:create_app`)."""

from pathlib import Path

from fastapi import FastAPI

from services.kernel.runtime import ServiceSpec, create_service_app
from services.matching import api
from services.matching.consumers import CONSUMERS
from services.matching.settings import MatchingSettings

SPEC = ServiceSpec(
    name="matching",
    title="Taskforce matching",
    description="Read models of open work and active workers, explained shortlists and "
    "recommendations.",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[api.router],
    publishes=[],
    consumers=CONSUMERS,
    snapshot=None,
)


def create_app(settings: MatchingSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or MatchingSettings())
