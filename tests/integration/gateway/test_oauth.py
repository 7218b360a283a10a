"""The embedded mode's token endpoint (`POST /oauth/token`, RFC 6749 client credentials) through
the gateway app, with a client registered by `taskforce clients add`, and the token it issues
taken by the gateway to a real upstream (a small FastAPI app served by uvicorn)."""

import asyncio
import base64
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from typer.testing import CliRunner

from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings
from services.kernel.auth import TokenVerifier
from taskforce.cli import app as cli

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def a_fake_catalog() -> FastAPI:
    app = FastAPI(title="fake catalog")

    @app.get("/v1/tasks")
    async def list_tasks(request: Request) -> dict[str, Any]:
        return {"items": [], "next_cursor": None, "seen": request.headers["authorization"]}

    return app


@pytest.fixture(scope="module")
async def upstream_url() -> AsyncIterator[str]:
    config = uvicorn.Config(
        a_fake_catalog(), host="127.0.0.1", port=0, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the fake upstream failed to start"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    await serving


def a_closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def settings(tmp_path: Path, upstream_url: str) -> GatewaySettings:
    return GatewaySettings(
        auth_mode="local",
        auth_local_key_file=tmp_path / "signing.key",
        oauth_clients_file=tmp_path / "oauth-clients.json",
        log_json=False,
        catalog_url=upstream_url,
        profiles_url=a_closed_port(),
        matching_url=a_closed_port(),
    )


def clients(settings: GatewaySettings, *args: str) -> str:
    """`taskforce clients ...` against this gateway's registry; its stdout."""
    result = CliRunner().invoke(
        cli, ["clients", *args, "--clients-file", str(settings.oauth_clients_file)]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def secret(settings: GatewaySettings) -> str:
    printed = clients(settings, "add", "hris", "--scope", "tasks:read", "--scope", "tasks:write")
    return printed.strip()


@pytest.fixture
async def gateway(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    return body


async def test_a_registered_client_gets_a_service_token_the_gateway_accepts(
    gateway: httpx.AsyncClient, settings: GatewaySettings, secret: str
) -> None:
    response = await gateway.post(
        "/oauth/token",
        content="grant_type=client_credentials",
        headers={**FORM, **basic("hris", secret)},
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body.keys() == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert body["scope"] == "tasks:read tasks:write"
    user = TokenVerifier(settings).verify(body["access_token"])
    assert (user.sub, user.roles) == ("hris", frozenset({"service"}))
    assert user.scopes == {"tasks:read", "tasks:write"}

    proxied = await gateway.get(
        "/v1/tasks", headers={"Authorization": f"Bearer {body['access_token']}"}
    )

    assert proxied.status_code == 200
    assert proxied.json()["seen"] == f"Bearer {body['access_token']}"


async def test_credentials_in_the_form_and_a_narrower_scope_are_honoured(
    gateway: httpx.AsyncClient, settings: GatewaySettings, secret: str
) -> None:
    response = await gateway.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "hris",
            "client_secret": secret,
            "scope": "tasks:read",
        },
    )

    assert response.status_code == 200
    assert response.json()["scope"] == "tasks:read"
    assert TokenVerifier(settings).verify(response.json()["access_token"]).scopes == {"tasks:read"}


@pytest.mark.parametrize(
    ("client_id", "wrong"), [("hris", True), ("nobody", False)], ids=["wrong secret", "unknown"]
)
async def test_a_wrong_secret_or_an_unknown_client_is_invalid_client(
    gateway: httpx.AsyncClient, secret: str, client_id: str, wrong: bool
) -> None:
    presented = secret + "x" if wrong else secret

    response = await gateway.post(
        "/oauth/token",
        content="grant_type=client_credentials",
        headers={**FORM, **basic(client_id, presented)},
    )

    body = assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="taskforce"'
    # Both answers are the same, so they do not tell which client ids exist.
    assert body["error_description"] == "unknown client or wrong secret"
    assert "access_token" not in response.text


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ("", "invalid_request"),
        ("scope=tasks%3Aread", "invalid_request"),
        ("grant_type=password&username=a&password=b", "unsupported_grant_type"),
        ("grant_type=client_credentials&grant_type=client_credentials", "invalid_request"),
        ("grant_type=client_credentials&scope=workers%3Awrite", "invalid_scope"),
        ("grant_type=client_credentials&scope=tasks%3Aread+tasks%3Adelete", "invalid_scope"),
    ],
    ids=[
        "empty",
        "no grant type",
        "password grant",
        "repeated",
        "scope not registered",
        "unknown scope",
    ],
)
async def test_a_malformed_request_is_the_matching_rfc_6749_error(
    gateway: httpx.AsyncClient, secret: str, form: str, error: str
) -> None:
    response = await gateway.post(
        "/oauth/token", content=form, headers={**FORM, **basic("hris", secret)}
    )

    assert_oauth_error(response, 400, error)


async def test_a_json_body_is_an_invalid_request(gateway: httpx.AsyncClient, secret: str) -> None:
    response = await gateway.post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        headers=basic("hris", secret),
    )

    assert_oauth_error(response, 400, "invalid_request")


async def test_two_authentication_methods_at_once_are_refused(
    gateway: httpx.AsyncClient, secret: str
) -> None:
    response = await gateway.post(
        "/oauth/token",
        content=f"grant_type=client_credentials&client_secret={secret}",
        headers={**FORM, **basic("hris", secret)},
    )

    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("headers", "form"),
    [
        ({}, "grant_type=client_credentials&client_id=hris"),
        ({"Authorization": "Basic not*base64"}, "grant_type=client_credentials"),
        ({"Authorization": "Bearer abc"}, "grant_type=client_credentials"),
    ],
    ids=["no secret", "malformed basic", "a bearer token is no client authentication"],
)
async def test_a_request_without_usable_client_credentials_is_invalid_client(
    gateway: httpx.AsyncClient, secret: str, headers: dict[str, str], form: str
) -> None:
    response = await gateway.post("/oauth/token", content=form, headers={**FORM, **headers})

    assert_oauth_error(response, 401, "invalid_client")


async def test_a_secret_in_the_url_is_refused(gateway: httpx.AsyncClient, secret: str) -> None:
    response = await gateway.post(
        f"/oauth/token?client_id=hris&client_secret={secret}",
        content="grant_type=client_credentials",
        headers=FORM,
    )

    assert_oauth_error(response, 400, "invalid_request")


async def test_the_registry_never_holds_the_secret(settings: GatewaySettings, secret: str) -> None:
    stored = settings.oauth_clients_file.read_text()

    assert secret not in stored
    assert '"hris"' in stored and "scrypt$" in stored
    assert stat.S_IMODE(settings.oauth_clients_file.stat().st_mode) == 0o600


async def test_a_removed_client_gets_no_new_token(
    gateway: httpx.AsyncClient, settings: GatewaySettings, secret: str
) -> None:
    clients(settings, "remove", "hris")

    response = await gateway.post(
        "/oauth/token",
        content="grant_type=client_credentials",
        headers={**FORM, **basic("hris", secret)},
    )

    assert_oauth_error(response, 401, "invalid_client")


async def test_with_an_identity_provider_the_endpoint_does_not_exist(
    settings: GatewaySettings, secret: str
) -> None:
    oidc = settings.model_copy(
        update={"auth_mode": "oidc", "auth_jwks_url": f"{a_closed_port()}/certs"}
    )
    app = create_app(oidc)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
            response = await gateway.post(
                "/oauth/token",
                content="grant_type=client_credentials",
                headers={**FORM, **basic("hris", secret)},
            )

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "access_token" not in response.text


async def test_token_requests_from_one_address_are_limited_before_any_secret_is_hashed(
    settings: GatewaySettings, secret: str
) -> None:
    # Each attempt costs a scrypt hash: guessing secrets from one address is throttled hard.
    tight = settings.model_copy(update={"oauth_token_per_s": 0.01, "oauth_token_burst": 3})
    app = create_app(tight)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
            answers = [
                await gateway.post(
                    "/oauth/token",
                    content="grant_type=client_credentials",
                    headers={**FORM, **basic("hris", secret + "x")},
                )
                for _ in range(4)
            ]
            refused = answers[-1]
            good = await gateway.post(
                "/oauth/token",
                content="grant_type=client_credentials",
                headers={**FORM, **basic("hris", secret)},
            )

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    # The right secret waits too: the limit is on the address, not on failures.
    assert good.status_code == 429
