"""The matching service: its spec and the app factory (`uvicorn --factory
services.matching.main:create_app`)."""

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.contracts.matching import ASSIGNMENTS_TOPIC, INTERESTS_TOPIC, RUNS_TOPIC
from services.kernel.runtime import ServiceSpec, create_service_app
from services.matching import api, assignments, assignments_api, interests, interests_api, runs_api
from services.matching.consumers import CONSUMERS
from services.matching.escalation import run_approval_escalation
from services.matching.run_executor import run_match_runs
from services.matching.settings import MatchingSettings


async def snapshot(session: AsyncSession) -> int:
    """Every assignment's and every interest's current state, for the relay."""
    return await assignments.snapshot_assignments(session) + await interests.snapshot_interests(
        session
    )


SPEC = ServiceSpec(
    name="matching",
    title="Taskforce matching",
    description="Read models of open work and active workers, explained shortlists and "
    "recommendations, optimised match runs, assignments and the hours ledger, and the "
    "interest workers show in open tasks.",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[api.router, runs_api.router, assignments_api.router, interests_api.router],
    publishes=[ASSIGNMENTS_TOPIC, RUNS_TOPIC, INTERESTS_TOPIC],
    consumers=CONSUMERS,
    snapshot=snapshot,
    background=[run_approval_escalation, run_match_runs],
)


def create_app(settings: MatchingSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or MatchingSettings())
