"""The gateway's `/v1/me` routes in front of fake services (one small FastAPI app served by
uvicorn on a free port plays profiles, matching and catalog): each call goes out as the caller
for the worker in the token, a service's refusal comes back unchanged, a down service is a
503, and GETs revalidate with ETags."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.settings import GatewaySettings
from services.kernel.auth import mint_local_token
from tests.integration.gateway.test_proxy import TRACEPARENT, a_closed_port, a_gateway, bearer

ADA = str(uuid.uuid4())
NEWCOMER = str(uuid.uuid4())
TASK = str(uuid.uuid4())
OWNED_TASK = str(uuid.uuid4())
OWN_TASK = (
    b'{"type":"https://taskforce.dev/problems/interest-not-allowed","title":"Interest not '
    b'allowed","status":409,"detail":"This is your own task."}'
)


def a_fake_backend(seen: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        seen.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "headers": dict(request.headers),
            }
        )
        return await call_next(request)

    @app.get("/v1/workers/{worker_id}")
    async def worker(worker_id: str) -> dict[str, Any]:
        return {
            "id": worker_id,
            "version": 3,
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "status": "active",
            "weekly_hours": 8,
            "skills": [{"skill_id": "taskforce:python", "level": 4, "source": "self"}],
            "aspirations": [],
            "availability": [],
            "blackouts": [],
        }

    @app.get("/v1/workers/{worker_id}/ledger")
    async def ledger(worker_id: str) -> Response:
        if worker_id == NEWCOMER:
            problem = {"type": "x", "title": "Worker not known", "status": 404, "detail": "-"}
            return JSONResponse(problem, 404, media_type="application/problem+json")
        week = {
            "week": "2026-W49",
            "week_start": "2026-11-30",
            "capacity_hours": 8,
            "committed_hours": 0,
            "remaining_hours": 8,
            "assignments": [],
        }
        return JSONResponse({"worker_id": worker_id, "weekly_hours": 8, "weeks": [week]})

    @app.put("/v1/workers/{worker_id}/interests/{task_id}")
    async def interest(worker_id: str, task_id: str) -> Response:
        if task_id == OWNED_TASK:
            return Response(OWN_TASK, 409, media_type="application/problem+json")
        item = {
            "worker_id": worker_id,
            "task_id": task_id,
            "title": "Dashboard",
            "task_status": "open",
            "task_open": True,
            "created_at": "2026-11-23T10:00:00Z",
        }
        return JSONResponse(item, 201)

    @app.get("/v1/assignments")
    async def assignments(worker_id: str) -> dict[str, Any]:
        item = {
            "id": str(uuid.uuid4()),
            "version": 1,
            "task_id": TASK,
            "worker_id": worker_id,
            "status": "offered",
            "learning_seat": False,
            "hours_per_week": 4,
            "start_date": "2026-12-07",
            "end_date": "2026-12-18",
            "approval_due_at": None,
            "updated_at": "2026-11-23T10:00:00Z",
            "offered_by": "manager-1",
        }
        return {"items": [item], "next_cursor": None}

    @app.get("/v1/tasks/{task_id}")
    async def task(task_id: str) -> dict[str, str]:
        return {"id": task_id, "title": "Dashboard"}

    return app


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    config = uvicorn.Config(
        a_fake_backend(seen), host="127.0.0.1", port=0, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the fake backend failed to start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", seen
    server.should_exit = True
    await serving


def settings_for(tmp_path: Path, **urls: str) -> GatewaySettings:
    return GatewaySettings(
        auth_mode="local",
        auth_local_key_file=tmp_path / "signing.key",
        log_json=False,
        **urls,
    )


def worker_token(settings: GatewaySettings, worker_id: str = ADA) -> dict[str, str]:
    return bearer(mint_local_token(settings, "ada", ["worker"], worker_id=worker_id))


async def test_me_asks_as_the_caller_for_the_worker_in_the_token_and_revalidates(
    backend: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, seen = backend
    settings = settings_for(tmp_path, profiles_url=url, matching_url=url, catalog_url=url)
    who = worker_token(settings)
    headers = {**who, "X-Request-ID": "req-7", "traceparent": TRACEPARENT}
    async for gateway in a_gateway(settings):
        before = len(seen)
        # A worker id named in the query changes nothing: the token decides.
        answer = await gateway.get("/v1/me", params={"worker_id": NEWCOMER}, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["id"], body["hours"][0]["remaining_hours"]) == (ADA, 8)
        assert "email" not in body
        calls = seen[before:]
        assert sorted(c["path"] for c in calls) == [
            f"/v1/workers/{ADA}",
            f"/v1/workers/{ADA}/ledger",
        ]
        for call in calls:
            assert call["headers"]["authorization"] == who["Authorization"]
            assert call["headers"]["x-request-id"] == "req-7"
            assert call["headers"]["traceparent"] == TRACEPARENT
        etag = answer.headers["etag"]
        assert answer.headers["cache-control"] == "private, no-cache"
        fresh = await gateway.get("/v1/me", headers={**who, "If-None-Match": etag})
        assert fresh.status_code == 304 and fresh.content == b""
        assert fresh.headers["etag"] == etag


async def test_a_worker_matching_does_not_know_yet_still_gets_a_profile(
    backend: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, _ = backend
    settings = settings_for(tmp_path, profiles_url=url, matching_url=url, catalog_url=url)
    async for gateway in a_gateway(settings):
        answer = await gateway.get("/v1/me", headers=worker_token(settings, NEWCOMER))
        assert answer.status_code == 200 and answer.json()["hours"] is None


async def test_a_services_refusal_reaches_the_app_as_it_came(
    backend: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, _ = backend
    settings = settings_for(tmp_path, profiles_url=url, matching_url=url, catalog_url=url)
    async for gateway in a_gateway(settings):
        who = worker_token(settings)
        refused = await gateway.put(f"/v1/me/interests/{OWNED_TASK}", headers=who)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.content == OWN_TASK
        shown = await gateway.put(f"/v1/me/interests/{TASK}", headers=who)
        assert shown.status_code == 201
        assert shown.json() == {
            "task_id": TASK,
            "title": "Dashboard",
            "task_status": "open",
            "task_open": True,
            "created_at": "2026-11-23T10:00:00Z",
        }


async def test_a_down_service_is_a_503_naming_no_address(
    backend: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, _ = backend
    down = a_closed_port()
    settings = settings_for(tmp_path, profiles_url=url, matching_url=down, catalog_url=url)
    async for gateway in a_gateway(settings):
        answer = await gateway.get("/v1/me/recommendations", headers=worker_token(settings))
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"]
        assert "matching" in answer.json()["detail"]
        assert down.removeprefix("http://") not in answer.text


async def test_titles_are_null_while_the_catalog_cannot_say_but_the_list_still_answers(
    backend: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, seen = backend
    settings = settings_for(
        tmp_path, profiles_url=url, matching_url=url, catalog_url=a_closed_port()
    )
    async for gateway in a_gateway(settings):
        before = len(seen)
        answer = await gateway.get(
            "/v1/me/assignments", params={"worker_id": NEWCOMER}, headers=worker_token(settings)
        )
        assert answer.status_code == 200, answer.text
        assert [(a["title"], a["status"]) for a in answer.json()["items"]] == [(None, "offered")]
        asked = [c for c in seen[before:] if c["path"] == "/v1/assignments"]
        assert [c["query"]["worker_id"] for c in asked] == [ADA]
