"""`POST /oauth/token`: the OAuth2 client-credentials grant (RFC 6749 §4.4) for machine clients
of the embedded mode, which has no identity provider. It issues the same local HS256 tokens
the services verify, with the `service` role; with `auth_mode=oidc` it does not exist (404)."""

import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services.gateway.oauth_clients import ClientRegistryError, MachineClient, authenticate
from services.gateway.ratelimit import TokenBuckets, address_key, client_address, refusal
from services.gateway.settings import GatewaySettings
from services.kernel.auth import SCOPES, mint_local_token
from services.kernel.errors import problem

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 8 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
log = logging.getLogger("taskforce.gateway.oauth")

router = APIRouter()


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: `error` is the registered code, `description` one short line."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="taskforce"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status=401)


async def read_form(request: Request) -> dict[str, str]:
    """The form parameters, each at most once (RFC 6749 §3.2)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM:
        raise OAuthError("invalid_request", f"the body must be {FORM}")
    if "client_secret" in request.query_params:
        raise OAuthError("invalid_request", "client_secret must not be sent in the URL")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "the body is too large")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=32)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "the body is not a valid form") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"the parameter {name} is repeated")
        form[name] = value
    return form


def client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """Client id and secret from HTTP Basic (RFC 6749 §2.3.1) or the form, never both."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        if "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method, not two")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise invalid_client("the Basic credentials are malformed") from exc
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise invalid_client("the Basic credentials are malformed")
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        if form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
        return client_id, secret
    if "client_id" in form and "client_secret" in form:
        return form["client_id"], form["client_secret"]
    raise invalid_client("client authentication is required")


TOKEN_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "description": "Space-separated; default: all registered"},
        "client_id": {"type": "string", "description": "Unless HTTP Basic is used"},
        "client_secret": {"type": "string", "description": "Unless HTTP Basic is used"},
    },
}


@router.post(
    "/oauth/token",
    tags=["auth"],
    summary="Issue an access token to a machine client (OAuth2 client credentials)",
    description=(
        "Embedded mode only. Client authentication by HTTP Basic or `client_id` and "
        "`client_secret` in the form. Errors follow RFC 6749 §5.2 (`application/json`)."
    ),
    openapi_extra={
        "requestBody": {"required": True, "content": {FORM: {"schema": TOKEN_REQUEST_SCHEMA}}}
    },
    responses={
        400: {"description": "invalid_request, unsupported_grant_type or invalid_scope"},
        401: {"description": "invalid_client"},
        404: {"description": "The deployment uses an OIDC provider's token endpoint instead"},
    },
)
async def issue_token(request: Request) -> JSONResponse:
    settings: GatewaySettings = request.app.state.settings
    if settings.auth_mode != "local":
        return problem(404, "Not found", "Tokens come from the identity provider.", "not-found")
    try:
        client, granted = await grant_client_credentials(request, settings)
    except OAuthError as exc:
        return exc.response()
    except ClientRegistryError:
        log.exception("the client registry cannot be read")
        return problem(503, "Service unavailable", "Tokens cannot be issued now.", "unavailable")
    token = mint_local_token(
        settings, client.client_id, ["service"], ttl_s=settings.oauth_token_ttl_s, scopes=granted
    )
    log.info("token issued to client %r with scopes %s", client.client_id, " ".join(granted))
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings.oauth_token_ttl_s,
        "scope": " ".join(granted),
    }
    return JSONResponse(body, headers=NO_STORE)


async def grant_client_credentials(
    request: Request, settings: GatewaySettings
) -> tuple[MachineClient, list[str]]:
    """The authenticated client and the scopes its token gets, or the OAuthError to answer."""
    buckets: TokenBuckets | None = request.app.state.oauth_buckets
    if buckets is not None:
        address = client_address(request.scope, request.app.state.trusted_proxies)
        verdict = buckets.take(address_key(address))
        if not verdict.allowed:
            raise refusal(verdict, "address")
    form = await read_form(request)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
    client_id, secret = client_credentials(request, form)
    # scrypt takes tens of milliseconds: off the event loop.
    client = await run_in_threadpool(authenticate, settings.oauth_clients_file, client_id, secret)
    if client is None:
        log.info("token refused: client %r failed authentication", client_id)
        raise invalid_client("unknown client or wrong secret")
    requested = frozenset(form.get("scope", "").split())
    if not requested <= client.scopes:
        names = " ".join(sorted(requested - client.scopes))
        raise OAuthError("invalid_scope", f"not registered for this client: {names}")
    # A scope renamed since the client was registered is no longer granted.
    return client, sorted((requested or client.scopes) & SCOPES)
