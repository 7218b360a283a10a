"""Machine clients reaching a service directly (not through the gateway) are held to their
scopes by the service itself: defence in depth, with the same rule as the gateway's policy."""

from collections.abc import Callable
from pathlib import Path

import pytest

from services.catalog.main import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.matching.main import create_app as matching_app
from services.matching.settings import MatchingSettings
from services.profiles.main import create_app as profiles_app
from services.profiles.settings import ProfilesSettings
from tests.builders import a_task, a_worker
from tests.integration.catalog.conftest import seed_skills
from tests.integration.conftest import service_settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_catalog_reads_need_tasks_read_and_writes_tasks_write(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = catalog_app(service_settings(CatalogSettings, database_url, key_file))
    reader = bearer(token_for("service", scopes=["tasks:read"]))
    other = bearer(token_for("service", scopes=["workers:read", "workers:write"]))
    writer = bearer(token_for("service", scopes=["tasks:write"]))
    async with client_of(app) as client:
        await seed_skills(app)
        refused = await client.post("/v1/tasks", json=a_task(), headers=reader)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert 'scope="tasks:write"' in refused.headers["www-authenticate"]
        assert (await client.get("/v1/tasks", headers=reader)).json()["items"] == []

        assert (await client.get("/v1/tasks", headers=other)).status_code == 403
        assert (await client.post("/v1/tasks", json=a_task(), headers=writer)).status_code == 201
        assert len((await client.get("/v1/tasks", headers=reader)).json()["items"]) == 1


async def test_profiles_tells_the_taxonomy_from_the_workers(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    app = profiles_app(service_settings(ProfilesSettings, database_url, key_file))
    skills_only = bearer(token_for("service", scopes=["skills:read"]))
    hris = bearer(token_for("service", scopes=["workers:write", "workers:read"]))
    async with client_of(app) as client:
        assert (await client.get("/v1/skills", headers=skills_only)).status_code == 200
        # Normalising free text only reads the taxonomy, although it is a POST.
        normalized = await client.post(
            "/v1/skills:normalize", json={"texts": ["python"]}, headers=skills_only
        )
        assert normalized.status_code != 403, normalized.text
        assert (await client.get("/v1/workers", headers=skills_only)).status_code == 403
        refused = await client.post("/v1/workers", json=a_worker(skills=[]), headers=skills_only)
        assert refused.status_code == 403
        assert (
            await client.post("/v1/workers", json=a_worker(skills=[]), headers=hris)
        ).status_code == 201
        assert (await client.get("/v1/skills", headers=hris)).status_code == 403


@pytest.mark.parametrize("roles", [("admin", "service"), ("manager", "service")])
async def test_a_person_who_also_holds_the_service_role_is_governed_by_their_role(
    database_url: str,
    key_file: Path,
    client_of: Callable,
    token_for: Callable,
    roles: tuple[str, ...],
) -> None:
    app = matching_app(service_settings(MatchingSettings, database_url, key_file))
    person = bearer(token_for(*roles, scopes=[]))
    machine = bearer(token_for("service", scopes=["tasks:read"]))
    async with client_of(app) as client:
        assert (await client.get("/v1/match-runs", headers=person)).status_code == 200
        assert (await client.get("/v1/match-runs", headers=machine)).status_code == 403
