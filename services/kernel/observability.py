"""One logging setup (JSON lines carrying the request id and trace id), the request-id and
`traceparent` middleware, and Prometheus metrics served at `/metrics`."""

import contextvars
import logging
import re
import sys
import time
import uuid

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
traceparent_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "traceparent", default=None
)
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        traceparent = traceparent_var.get()
        record.trace_id = traceparent.split("-")[1] if traceparent else None
        return True


def configure_logging(service: str, level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s "
                "%(trace_id)s",
                rename_fields={"asctime": "time", "levelname": "level"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(service)s] %(name)s: %(message)s")
        )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def events_consumed_counter(registry: CollectorRegistry) -> Counter:
    return Counter(
        "events_consumed_total",
        "Events read by a consumer, by outcome",
        ["consumer", "outcome"],
        registry=registry,
    )


def install_observability(app: FastAPI, service: str, registry: CollectorRegistry) -> None:
    """Request ids, trace context, access metrics and log lines, and the `/metrics` route."""
    access = logging.getLogger("taskforce.access")
    requests = Counter(
        "http_requests_total",
        "HTTP requests",
        ["service", "method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency",
        ["service", "method", "route"],
        registry=registry,
    )

    @app.middleware("http")
    async def observe(request: Request, call_next):  # type: ignore[no-untyped-def]
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if REQUEST_ID.match(incoming) else str(uuid.uuid4())
        traceparent = request.headers.get("traceparent", "")
        if not TRACEPARENT.match(traceparent):
            traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
        rid_token = request_id_var.set(request_id)
        tp_token = traceparent_var.set(traceparent)
        started = time.perf_counter()
        try:
            response: Response = await call_next(request)
            elapsed = time.perf_counter() - started
            route = getattr(request.scope.get("route"), "path", "unmatched")
            requests.labels(service, request.method, route, str(response.status_code)).inc()
            latency.labels(service, request.method, route).observe(elapsed)
            # The access line, inside the request's context so it carries its ids.
            access.info(
                "%s %s %d",
                request.method,
                route,
                response.status_code,
                extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
            )
        finally:
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)
        response.headers["X-Request-ID"] = request_id
        response.headers["traceparent"] = traceparent
        return response

    install_metrics(app, registry)


def install_metrics(app: FastAPI, registry: CollectorRegistry) -> None:
    """The `/metrics` route, serving `registry` in the Prometheus text format."""

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
