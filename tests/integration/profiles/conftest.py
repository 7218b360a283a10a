"""A profiles app with a small taxonomy, and helpers to read what it wrote."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from services.kernel.outbox import OutboxMessage
from services.profiles.main import create_app
from services.profiles.settings import ProfilesSettings
from tests.integration.conftest import service_settings

TAXONOMY = [
    {"id": "taskforce:programming", "label": "computer programming", "alt_labels": ["coding"]},
    {
        "id": "taskforce:python",
        "label": "Python",
        "broader": ["taskforce:programming"],
        "alt_labels": ["Python programming", "Python (computer programming)"],
    },
    {
        "id": "taskforce:sql",
        "label": "SQL",
        "broader": ["taskforce:programming"],
        "alt_labels": ["structured query language"],
    },
    {"id": "taskforce:excel", "label": "Microsoft Excel", "alt_labels": ["MS Excel", "Excel"]},
    {"id": "taskforce:leadership", "label": "lead a team", "alt_labels": ["team leadership"]},
    {"id": "taskforce:nursing", "label": "nursing care", "alt_labels": ["nursing"]},
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Profiles:
    client: httpx.AsyncClient
    app: object
    token_for: Callable[..., str]

    def as_(
        self, *roles: str, sub: str = "someone", worker_id: str | None = None
    ) -> dict[str, str]:
        return bearer(self.token_for(*roles, sub=sub, worker_id=worker_id))

    async def events(self) -> list[tuple[str, str, dict]]:
        async with self.app.state.db.sessions() as session:  # type: ignore[attr-defined]
            rows = await session.execute(
                sa.select(
                    OutboxMessage.event_type, OutboxMessage.key, OutboxMessage.payload
                ).order_by(OutboxMessage.position)
            )
            return [(r[0].rsplit(".", 2)[-2], r[1], r[2]) for r in rows]

    async def count(self, table: str) -> int:
        async with self.app.state.db.sessions() as session:  # type: ignore[attr-defined]
            return int(await session.scalar(sa.text(f"SELECT count(*) FROM {table}")))

    async def worker(self, **body: object) -> dict:
        from tests.builders import a_worker

        response = await self.client.post(
            "/v1/workers", json=a_worker(**body), headers=self.as_("service", sub="hris")
        )
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
async def profiles(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> AsyncIterator[Profiles]:
    app = create_app(service_settings(ProfilesSettings, database_url, key_file))
    async with client_of(app) as client:
        admin = bearer(token_for("admin", sub="taxonomist"))
        for skill in TAXONOMY:
            response = await client.post("/v1/skills", json=skill, headers=admin)
            assert response.status_code == 201, response.text
        yield Profiles(client, app, token_for)
