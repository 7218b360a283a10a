"""The mobile gig app's API, `/v1/me...`, served by the gateway: each handler asks the owning
services for the worker in the token (never one named in the path or query), passing the
caller's own token so every service still authorises the call, and answers a compact body
with a strong ETag. Owns nothing: no database, no cache."""

import asyncio
import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.authorization import Authorized
from services.gateway.me_calls import (
    ME_RESPONSES,
    NOT_MODIFIED,
    MeRoute,
    UpstreamAnswered,
    ask,
    cached,
)
from services.gateway.me_compact import (
    compact_assignment,
    compact_interest,
    compact_ledger,
    compact_profile,
    compact_recommendation,
)
from services.gateway.me_schemas import (
    MeAssignment,
    MeInterest,
    MeLedger,
    MeProfile,
    MeReason,
    MeRecommendation,
)
from services.kernel.contracts.matching import AssignmentStatus
from services.kernel.errors import Forbidden
from services.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.kernel.web import IfMatch

# Weeks of the ledger that `GET /v1/me` sums up: this one and the next three.
SUMMARY_WEEKS = 4

router = APIRouter(prefix="/v1/me", tags=["me"], route_class=MeRoute, responses=ME_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=1000)]


def the_worker(user: Authorized) -> uuid.UUID:
    """The worker id of the token: only a worker's token with a `worker_id` may use `/v1/me`.
    The caller's rate limit and the authorization policy apply as on every proxied route."""
    if "worker" not in user.roles or not user.worker_id:
        raise Forbidden("The mobile API is for workers: the token needs the worker role and id.")
    try:
        return uuid.UUID(user.worker_id)
    except ValueError as exc:
        raise Forbidden("The token's worker_id is not a worker id.") from exc


Me = Annotated[uuid.UUID, Depends(the_worker)]


def paging(limit: int, cursor: str | None, **filters: Any) -> dict[str, Any]:
    """Query parameters for an upstream list; its cursor is opaque already and passes as is."""
    params = {name: value for name, value in filters.items() if value is not None}
    params["limit"] = limit
    if cursor is not None:
        params["cursor"] = cursor
    return params


async def task_titles(request: Request, task_ids: set[str]) -> dict[str, str | None]:
    """Titles from the catalog, asked at once. A title is decoration: one the catalog cannot
    give (down, or the task no longer visible) is None rather than failing the whole list."""

    async def title(task_id: str) -> str | None:
        try:
            _, task = await ask(request, "catalog", "GET", f"/v1/tasks/{task_id}")
        except UpstreamAnswered:
            return None
        return task.get("title") if isinstance(task, dict) else None

    ids = sorted(task_ids)
    return dict(zip(ids, await asyncio.gather(*(title(i) for i in ids)), strict=True))


@router.get(
    "",
    response_model=MeProfile,
    responses=NOT_MODIFIED,
    summary="My profile and the hours of the coming weeks",
)
async def read_me(request: Request, me: Me) -> Response:
    (_, worker), (_, ledger) = await asyncio.gather(
        ask(request, "profiles", "GET", f"/v1/workers/{me}"),
        ask(
            request,
            "matching",
            "GET",
            f"/v1/workers/{me}/ledger",
            params={"weeks": SUMMARY_WEEKS},
            absent_ok=True,
        ),
    )
    return cached(request, compact_profile(worker, ledger))


@router.get(
    "/ledger",
    response_model=MeLedger,
    responses=NOT_MODIFIED,
    summary="My committed hours per ISO week",
)
async def read_my_ledger(
    request: Request,
    me: Me,
    from_date: Annotated[date | None, Query(description="a day of the first week")] = None,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
) -> Response:
    params: dict[str, Any] = {"weeks": weeks}
    if from_date is not None:
        params["from_date"] = from_date.isoformat()
    _, ledger = await ask(request, "matching", "GET", f"/v1/workers/{me}/ledger", params=params)
    return cached(request, compact_ledger(ledger))


@router.get(
    "/recommendations",
    response_model=Page[MeRecommendation],
    responses=NOT_MODIFIED,
    summary="Open work ranked for me: why, what I would learn, hours and dates",
)
async def list_my_recommendations(
    request: Request, me: Me, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    _, page = await ask(
        request,
        "matching",
        "GET",
        f"/v1/workers/{me}/recommendations",
        params=paging(limit, cursor),
    )
    items = [compact_recommendation(item) for item in page["items"]]
    return cached(request, Page[MeRecommendation](items=items, next_cursor=page["next_cursor"]))


@router.get(
    "/interests",
    response_model=Page[MeInterest],
    responses=NOT_MODIFIED,
    summary="The tasks I showed interest in, oldest first",
)
async def list_my_interests(
    request: Request, me: Me, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    _, page = await ask(
        request, "matching", "GET", f"/v1/workers/{me}/interests", params=paging(limit, cursor)
    )
    items = [compact_interest(item) for item in page["items"]]
    return cached(request, Page[MeInterest](items=items, next_cursor=page["next_cursor"]))


@router.put(
    "/interests/{task_id}",
    response_model=MeInterest,
    responses={201: {"model": MeInterest, "description": "Interest shown"}},
    summary="Show interest in an open task (201 the first time, 200 after)",
)
async def express_my_interest(request: Request, me: Me, task_id: uuid.UUID) -> Response:
    status, item = await ask(request, "matching", "PUT", f"/v1/workers/{me}/interests/{task_id}")
    return JSONResponse(compact_interest(item).model_dump(mode="json"), status_code=status)


@router.delete(
    "/interests/{task_id}",
    status_code=204,
    summary="Withdraw my interest in a task (204 whether or not it was shown)",
)
async def withdraw_my_interest(request: Request, me: Me, task_id: uuid.UUID) -> Response:
    await ask(request, "matching", "DELETE", f"/v1/workers/{me}/interests/{task_id}")
    return Response(status_code=204)


@router.get(
    "/assignments",
    response_model=Page[MeAssignment],
    responses=NOT_MODIFIED,
    summary="My offers and work, oldest first, optionally of one status",
)
async def list_my_assignments(
    request: Request,
    me: Me,
    status: AssignmentStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    _, page = await ask(
        request,
        "matching",
        "GET",
        "/v1/assignments",
        params=paging(limit, cursor, worker_id=str(me), status=status),
    )
    titles = await task_titles(request, {item["task_id"] for item in page["items"]})
    items = [compact_assignment(item, titles[item["task_id"]]) for item in page["items"]]
    return cached(request, Page[MeAssignment](items=items, next_cursor=page["next_cursor"]))


async def act(
    request: Request, assignment_id: uuid.UUID, action: str, if_match: str | None, body: Any
) -> Response:
    """Forward one of the worker's moves; matching checks that the assignment is theirs."""
    headers = {"If-Match": if_match} if if_match is not None else None
    _, item = await ask(
        request,
        "matching",
        "POST",
        f"/v1/assignments/{assignment_id}:{action}",
        json=body,
        headers=headers,
    )
    titles = await task_titles(request, {item["task_id"]})
    compact = compact_assignment(item, titles[item["task_id"]])
    # The assignment's own ETag (its version), which the next move's If-Match compares with.
    return JSONResponse(compact.model_dump(mode="json"), headers={"ETag": f'"{compact.version}"'})


@router.post(
    "/assignments/{assignment_id}:accept",
    response_model=MeAssignment,
    summary="Accept an offer (small commitments are approved at once)",
)
async def accept_my_assignment(
    request: Request, _: Me, assignment_id: uuid.UUID, if_match: IfMatch = None
) -> Response:
    return await act(request, assignment_id, "accept", if_match, None)


@router.post(
    "/assignments/{assignment_id}:decline",
    response_model=MeAssignment,
    summary="Decline an offer, optionally saying why",
)
async def decline_my_assignment(
    request: Request,
    _: Me,
    assignment_id: uuid.UUID,
    data: MeReason | None = None,
    if_match: IfMatch = None,
) -> Response:
    body = data.model_dump() if data is not None else None
    return await act(request, assignment_id, "decline", if_match, body)
