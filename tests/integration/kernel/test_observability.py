"""Every response carries the request id and trace context it came with (or new ones), and
every log line written while serving it is JSON carrying both."""

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from services.catalog.main import create_app
from services.catalog.settings import CatalogSettings
from tests.integration.conftest import service_settings

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_request_ids_and_trace_context_reach_the_response_and_the_logs(
    database_url: str, key_file: Path, client_of: Callable, token_for: Callable
) -> None:
    settings = service_settings(CatalogSettings, database_url, key_file)
    app = create_app(settings.model_copy(update={"log_json": True, "log_level": "INFO"}))
    handler = logging.getLogger().handlers[0]
    captured = io.StringIO()
    handler.setStream(captured)  # type: ignore[attr-defined]
    async with client_of(app) as client:
        headers = {
            "X-Request-ID": "req-123",
            "traceparent": TRACEPARENT,
            "Authorization": f"Bearer {token_for('manager')}",
        }
        response = await client.get(
            "/v1/tasks/00000000-0000-0000-0000-000000000000", headers=headers
        )
        assert response.status_code == 404
        assert response.headers["x-request-id"] == "req-123"
        assert response.headers["traceparent"] == TRACEPARENT
        fresh = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
        assert fresh.headers["x-request-id"] != "bad id with spaces"
        assert fresh.headers["traceparent"].startswith("00-")

    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.strip()]
    assert all({"time", "level", "name", "message", "service"} <= set(line) for line in lines)
    access = [line for line in lines if line["name"] == "taskforce.access"]
    mine = next(line for line in access if line["request_id"] == "req-123")
    assert mine["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert mine["status"] == 404 and mine["service"] == "catalog"
    assert mine["message"] == "GET /v1/tasks/{task_id} 404"
