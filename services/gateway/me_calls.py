"""How the `/v1/me` handlers ask the services: one JSON call made as the caller (their token,
request id and trace) through the upstream's circuit breaker; a refusal passed on as it came;
and answers with a strong ETag that honour `If-None-Match`. No state of its own."""

import logging
from typing import Any

import httpx
from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from services.gateway.breaker import CircuitOpen
from services.gateway.clients import (
    IDEMPOTENT,
    circuit_open_problem,
    context_headers,
    send_guarded,
    transport_problem,
)
from services.gateway.me_compact import json_and_etag, none_match
from services.kernel.errors import problem
from services.kernel.web import PROBLEM_RESPONSES, Problem

log = logging.getLogger("taskforce.gateway.me")

# The app may keep a copy but must revalidate it (If-None-Match) before showing it again;
# `private` keeps shared caches from storing one worker's data.
CACHE_CONTROL = "private, no-cache"
PASSED_ON = ("content-type", "retry-after", "www-authenticate")

_UPSTREAM = {"model": Problem, "content": {"application/problem+json": {}}}
ME_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    403: {**PROBLEM_RESPONSES[403], "description": "The token is not a worker's"},
    502: {**_UPSTREAM, "description": "A service gave no valid answer"},
    503: {**_UPSTREAM, "description": "A service is unavailable; retry later"},
    504: {**_UPSTREAM, "description": "A service did not answer in time"},
}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` copy is current"}
}


class UpstreamAnswered(Exception):
    """A service refused or failed: its answer goes back to the app as it came (or, when it
    could not be reached, the gateway's own 502/503/504 problem)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class MeRoute(APIRoute):
    """Lets a handler stop at the first upstream refusal by raising `UpstreamAnswered`."""

    def get_route_handler(self):  # type: ignore[no-untyped-def]
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except UpstreamAnswered as refused:
                return refused.response
            except ValidationError as exc:
                # An upstream answered 2xx with a body of another shape than it documents.
                log.warning("unreadable upstream answer on %s: %s", request.url.path, exc)
                return problem(
                    502,
                    "Bad gateway",
                    "A service gave an answer the gateway cannot read.",
                    "bad-gateway",
                )

        return answer


async def ask(
    request: Request,
    upstream: str,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: Any = None,
    headers: dict[str, str] | None = None,
    absent_ok: bool = False,
) -> tuple[int, Any]:
    """Status and JSON body of one call to `upstream` made with the caller's token, request id
    and trace, through the upstream's circuit breaker (retried as the proxy retries); None as
    the body of a 204, or of a 404 when `absent_ok`. Any other refusal or failure raises
    `UpstreamAnswered`."""
    state = request.app.state
    client: httpx.AsyncClient = state.clients[upstream]
    sent: list[tuple[bytes, bytes]] = [
        (b"authorization", request.headers["authorization"].encode("latin-1")),
        (b"accept", b"application/json"),
        *context_headers(),
        *((name.encode(), value.encode("latin-1")) for name, value in (headers or {}).items()),
    ]
    outgoing = client.build_request(method, path, params=params, json=json, headers=sent)
    retries = state.settings.upstream_retries if method in IDEMPOTENT else 0
    try:
        answer = await send_guarded(
            client,
            state.breakers[upstream],
            outgoing,
            retries,
            state.settings.upstream_retry_backoff_s,
        )
        try:
            await answer.aread()
        finally:
            await answer.aclose()
    except CircuitOpen as exc:
        raise UpstreamAnswered(circuit_open_problem(upstream, exc)) from exc
    except httpx.TransportError as exc:
        raise UpstreamAnswered(transport_problem(upstream, exc)) from exc
    if answer.status_code == 404 and absent_ok:
        return 404, None
    if answer.status_code >= 400:
        kept = {name: answer.headers[name] for name in PASSED_ON if name in answer.headers}
        raise UpstreamAnswered(Response(answer.content, answer.status_code, headers=kept))
    if answer.status_code == 204:
        return 204, None
    try:
        return answer.status_code, answer.json()
    except ValueError as exc:
        log.warning("upstream %s answered %s without JSON", upstream, path)
        raise UpstreamAnswered(
            problem(
                502, "Bad gateway", f"The {upstream} service gave no valid answer.", "bad-gateway"
            )
        ) from exc


def cached(request: Request, body: BaseModel) -> Response:
    """The body with its strong ETag, or a bodiless 304 when the app's copy is current."""
    raw, etag = json_and_etag(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
    if not none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(raw, media_type="application/json", headers=headers)
