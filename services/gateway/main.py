"""The gateway app factory (`uvicorn --factory services.gateway.main:create_app`): token check,
routing to the upstreams, health, and one OpenAPI document merged from theirs. No database."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CollectorRegistry

from services.gateway import me, oauth
from services.gateway.authorization import Authorized
from services.gateway.clients import close_clients, open_clients, probe, proxy, upstream_check
from services.gateway.protection import install_protection
from services.gateway.routes import upstream_for
from services.gateway.settings import GatewaySettings
from services.kernel.auth import TokenVerifier
from services.kernel.errors import install_error_handlers, problem
from services.kernel.observability import configure_logging, install_observability

TITLE = "Taskforce API"
VERSION = "0.1.0"
DESCRIPTION = (
    "Tasks, skills, workers and optimised matching, behind one gateway. Every `/v1` "
    "call needs `Authorization: Bearer <JWT>`."
)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
SCHEMA_REF = "#/components/schemas/"
BEARER_AUTH = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

router = APIRouter()


@router.get("/healthz", tags=["operations"], summary="The gateway process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["operations"],
    summary="The gateway can serve; the body tells which upstreams are ready",
)
async def readyz(request: Request) -> JSONResponse:
    # The gateway depends on nothing of its own. Failing readiness for a down upstream would
    # pull every gateway replica out of service and make the healthy services unreachable
    # too; requests to the down one already get a fast 503 per route.
    clients: dict[str, httpx.AsyncClient] = request.app.state.clients
    breakers = request.app.state.breakers
    answers = await asyncio.gather(
        *(upstream_check(client, breakers[name]) for name, client in clients.items())
    )
    checks = dict(zip(clients, answers, strict=True))
    status = "ready" if all(state == "ok" for state in checks.values()) else "degraded"
    return JSONResponse({"status": status, "checks": checks})


@router.get("/openapi.json", include_in_schema=False)
async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(await cached_openapi(request.app))


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{TITLE} - Swagger UI")


@router.api_route("/v1/{path:path}", methods=METHODS, include_in_schema=False)
async def forward(request: Request, _: Authorized) -> Response:
    # The token and the authorization policy are checked here, before any routing, although
    # every upstream checks both again.
    upstream = upstream_for(request.url.path)
    if upstream is None:
        return problem(404, "Not found", "No API resource lives at this path.", "not-found")
    state = request.app.state
    return await proxy(
        request, upstream, state.clients[upstream], state.breakers[upstream], state.settings
    )


async def cached_openapi(app: FastAPI) -> dict[str, Any]:
    """The merged document, rebuilt at most every `openapi_cache_s` seconds."""
    settings: GatewaySettings = app.state.settings
    async with app.state.openapi_lock:
        expires_at, document = app.state.openapi_cache
        if document is None or time.monotonic() >= expires_at:
            clients: dict[str, httpx.AsyncClient] = app.state.clients
            answers = await asyncio.gather(*(probe(c, "/openapi.json") for c in clients.values()))
            upstream_docs = {}
            for name, answer in zip(clients, answers, strict=True):
                # An unreachable or broken upstream leaves the others documented.
                with contextlib.suppress(ValueError):
                    if answer is not None and answer.status_code == 200:
                        upstream_docs[name] = answer.json()
            own = get_openapi(title=TITLE, version=VERSION, routes=app.routes)
            document = merge_openapi(own, upstream_docs)
            app.state.openapi_cache = (time.monotonic() + settings.openapi_cache_s, document)
        return document


def merge_openapi(own: dict[str, Any], upstream_docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One OpenAPI 3.1 document: the gateway's own routes (health and docs open to all, its
    `/v1` routes behind the token), then each upstream's `/v1` paths that the route table
    sends to it, and all their schemas."""
    paths: dict[str, Any] = {}
    for path, item in own.get("paths", {}).items():
        # Health and docs are open; the gateway's own `/v1` routes (`/v1/me`) need the token.
        open_route = not path.startswith("/v1/")
        paths[path] = {
            method: {**operation, "security": []} if open_route else operation
            for method, operation in item.items()
        }
    schemas: dict[str, Any] = dict(own.get("components", {}).get("schemas", {}))
    for upstream, doc in upstream_docs.items():
        theirs = doc.get("components", {}).get("schemas", {})
        # Two services may define a schema under one name differently; neither may win silently.
        renames = {
            name: f"{upstream}.{name}"
            for name, schema in theirs.items()
            if name in schemas and schemas[name] != schema
        }
        doc = _rename_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for path, item in doc.get("paths", {}).items():
            # Document only what the gateway really forwards to this upstream.
            if upstream_for(path) == upstream:
                paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearerAuth": BEARER_AUTH},
        },
        "security": [{"bearerAuth": []}],
    }


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if not renames:
        return node
    if isinstance(node, dict):
        ref = node.get("$ref")
        if (
            isinstance(ref, str)
            and ref.startswith(SCHEMA_REF)
            and ref[len(SCHEMA_REF) :] in renames
        ):
            node = {**node, "$ref": SCHEMA_REF + renames[ref[len(SCHEMA_REF) :]]}
        return {
            key: value if key == "$ref" else _rename_refs(value, renames)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.clients = open_clients(settings)
        app.state.openapi_lock = asyncio.Lock()
        app.state.openapi_cache = (0.0, None)
        try:
            yield
        finally:
            await close_clients(app.state.clients)

    # The framework's own OpenAPI and docs routes are replaced by the merged ones above.
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    install_error_handlers(app)
    registry = CollectorRegistry()
    # Before observability, so refused requests (413, 429, 431) are logged and counted too.
    install_protection(app, settings, registry)
    install_observability(app, settings.service_name, registry)
    # Before `router`: its `/v1/{path}` catch-all would otherwise take `/v1/me` too.
    app.include_router(me.router)
    app.include_router(router)
    app.include_router(oauth.router)
    return app
