"""Domain errors carrying their HTTP status, and the one handler that renders every error as
`application/problem+json` (RFC 9457). No stack trace or internal detail ever leaves a service."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://taskforce.dev/problems/"
log = logging.getLogger("taskforce.errors")


class DomainError(Exception):
    """Base of every error a use case raises; subclasses set `status` and `title`."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str = "",
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}


class NotFound(DomainError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class InvalidInput(DomainError):
    status, title, slug = 422, "Invalid input", "validation"


class Unauthorized(DomainError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="taskforce"'})


class Forbidden(DomainError):
    status, title, slug = 403, "Forbidden", "forbidden"


class ServiceUnavailable(DomainError):
    status, title, slug = 503, "Service unavailable", "unavailable"


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def on_domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.status, exc.title, exc.detail, exc.slug, errors=exc.errors, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            "Invalid input",
            "The request is not valid; see errors.",
            "validation",
            errors=_field_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return problem(
            exc.status_code,
            title,
            str(exc.detail),
            title.lower().replace(" ", "-"),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "An unexpected error occurred.", "internal")


def invalid_input(exc: ValidationError, where: str = "body") -> InvalidInput:
    """A use case's own validation failure (e.g. an update checked against the whole merged
    resource) as the same field-level 422 the request validation gives."""
    return InvalidInput(
        "The request is not valid; see errors.",
        errors=[
            {
                "loc": [where, *(str(part) for part in err["loc"])],
                "msg": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors()
        ],
    )
