"""Production token verification: RS256 and ES256 tokens checked against an issuer's JWKS served
by a real HTTP server on loopback that counts its fetches; every way a token can be wrong, the
key set's caching and rate-limited refetch, an unreachable issuer, roles and scopes claims."""

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI

from services.kernel.auth import (
    CurrentUser,
    InvalidToken,
    TokenVerifier,
    User,
    require_roles,
    require_scopes,
)
from services.kernel.errors import ServiceUnavailable, install_error_handlers
from services.kernel.settings import KernelSettings

ISSUER, AUDIENCE = "https://login.example.test/realms/acme", "taskforce-api"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ALGORITHM = {"rsa": "RS256", "ec": "ES256"}


def public_jwk(key: Any, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return jwk | {"kid": kid, "use": "sig", "alg": "RS256"}
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": kid, "use": "sig", "alg": "ES256"}


@dataclass
class Issuer:
    """A JWKS endpoint whose key set, status and body a test can change, counting fetches."""

    keys: dict[str, Any] = field(default_factory=lambda: {"rsa-1": RSA_KEY, "ec-1": EC_KEY})
    status: int = 200
    body: bytes | None = None
    fetches: int = 0
    url: str = ""

    def document(self) -> bytes:
        if self.body is not None:
            return self.body
        keys = [public_jwk(key, kid) for kid, key in self.keys.items()]
        return json.dumps({"keys": keys}).encode()


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    state = Issuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.fetches += 1
            body = state.document()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/protocol/openid-connect/certs"
    yield state
    server.shutdown()
    server.server_close()


def a_closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/certs"


def oidc_settings(jwks_url: str, **overrides: Any) -> KernelSettings:
    return KernelSettings(
        auth_mode="oidc",
        auth_jwks_url=jwks_url,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        **overrides,
    )


def a_token(
    key: Any = RSA_KEY,
    kid: Any = "rsa-1",
    algorithm: str | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    payload = {
        "sub": "svc-hris",
        "roles": ["service"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        # A day: the refused tokens are built when tests are collected, and a slow CI run
        # reached the audience and issuer cases after a 300 s token had expired.
        "exp": int(time.time()) + 86400,
    } | claims
    for name in drop:
        payload.pop(name)
    algorithm = algorithm or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
    headers = {} if kid is None else {"kid": kid}
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["roles"] = ["admin"]
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{forged}.{signature}"


def rsa_public_pem() -> bytes:
    return RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    ("key", "kid"), [(RSA_KEY, "rsa-1"), (EC_KEY, "ec-1")], ids=["RS256", "ES256"]
)
def test_a_token_the_issuer_signed_for_us_is_accepted(issuer: Issuer, key: Any, kid: str) -> None:
    user = TokenVerifier(oidc_settings(issuer.url)).verify(a_token(key, kid))

    assert user.sub == "svc-hris"
    assert user.roles == {"service"}


def hs256_forged_with_the_public_key(now: int) -> str:
    """The classic confusion attack: the issuer's public key used as an HMAC secret. PyJWT
    refuses to sign it, so it is signed by hand."""
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    payload = {"sub": "x", "roles": ["admin"], "iss": ISSUER, "aud": AUDIENCE, "exp": now + 60}
    signing_input = b".".join(
        jwt.utils.base64url_encode(json.dumps(part).encode()) for part in (header, payload)
    )
    signature = hmac.new(rsa_public_pem(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + jwt.utils.base64url_encode(signature)).decode()


def refused() -> list[Any]:
    """(token, the reason the client is told) for every way a token can be wrong."""
    now = int(time.time())
    alg_none = jwt.encode(
        {"sub": "x", "roles": ["admin"], "iss": ISSUER, "aud": AUDIENCE, "exp": now + 60},
        None,
        algorithm="none",
        headers={"kid": "rsa-1"},
    )
    return [
        pytest.param(a_token(exp=now - 3600), "the token has expired", id="expired"),
        pytest.param(a_token(nbf=now + 3600), "the token is not valid yet", id="not yet valid"),
        pytest.param(
            a_token(aud="another-api"), "the token is meant for another audience", id="audience"
        ),
        pytest.param(
            a_token(iss="https://evil.example.test"),
            "the token comes from another issuer",
            id="issuer",
        ),
        pytest.param(tampered(a_token()), "the signature does not verify", id="tampered"),
        pytest.param(a_token(key=OTHER_RSA_KEY), "the signature does not verify", id="foreign key"),
        pytest.param(
            a_token(key=EC_KEY, kid="rsa-1"),
            "the signing algorithm is not accepted",
            id="alg of another key",
        ),
        pytest.param(a_token(kid="not-published"), "the signing key is unknown", id="unknown kid"),
        pytest.param(a_token(kid=None), "the token names no signing key", id="no kid"),
        pytest.param(a_token(drop=("exp",)), "the token lacks the exp claim", id="no exp"),
        pytest.param(a_token(drop=("sub",)), "the token lacks the sub claim", id="no sub"),
        pytest.param(a_token(drop=("aud",)), "the token lacks the aud claim", id="no aud"),
        pytest.param(alg_none, "the signing algorithm is not accepted", id="alg none"),
        pytest.param(
            hs256_forged_with_the_public_key(now),
            "the signing algorithm is not accepted",
            id="HS256 with the public key",
        ),
        pytest.param("not-a-jwt", "the token is malformed", id="garbage"),
    ]


@pytest.mark.parametrize(("token", "reason"), refused())
def test_a_wrong_token_is_refused_with_a_short_reason(
    issuer: Issuer, token: str, reason: str
) -> None:
    with pytest.raises(InvalidToken) as refusal:
        TokenVerifier(oidc_settings(issuer.url)).verify(token)

    assert refusal.value.status == 401
    assert refusal.value.detail == f"The bearer token is not valid: {reason}."
    assert refusal.value.headers["WWW-Authenticate"] == (
        f'Bearer realm="taskforce", error="invalid_token", error_description="{reason}"'
    )


def test_a_token_expired_within_the_allowed_clock_skew_is_accepted(issuer: Issuer) -> None:
    verifier = TokenVerifier(oidc_settings(issuer.url, auth_leeway_s=30))

    assert verifier.verify(a_token(exp=int(time.time()) - 10)).sub == "svc-hris"
    with pytest.raises(InvalidToken):
        verifier.verify(a_token(exp=int(time.time()) - 60))


def test_the_key_set_is_fetched_once_for_many_tokens(issuer: Issuer) -> None:
    verifier = TokenVerifier(oidc_settings(issuer.url))

    for n in range(20):
        verifier.verify(a_token(*((RSA_KEY, "rsa-1") if n % 2 else (EC_KEY, "ec-1"))))

    assert issuer.fetches == 1


def test_random_key_ids_cannot_make_the_verifier_hammer_the_issuer(issuer: Issuer) -> None:
    verifier = TokenVerifier(oidc_settings(issuer.url, auth_jwks_refetch_min_s=30))
    verifier.verify(a_token())

    for n in range(50):
        with pytest.raises(InvalidToken, match="signing key is unknown"):
            verifier.verify(a_token(kid=f"random-{n}"))

    assert issuer.fetches == 1


def test_a_rotated_key_is_fetched_once_the_refetch_interval_has_passed(issuer: Issuer) -> None:
    verifier = TokenVerifier(oidc_settings(issuer.url, auth_jwks_refetch_min_s=0.3))
    verifier.verify(a_token())
    issuer.keys["rsa-2"] = OTHER_RSA_KEY
    rotated = a_token(key=OTHER_RSA_KEY, kid="rsa-2")

    with pytest.raises(InvalidToken, match="signing key is unknown"):
        verifier.verify(rotated)
    assert issuer.fetches == 1
    time.sleep(0.35)
    assert verifier.verify(rotated).sub == "svc-hris"
    assert verifier.verify(a_token(key=OTHER_RSA_KEY, kid="rsa-2")).sub == "svc-hris"
    assert issuer.fetches == 2


def test_a_key_the_issuer_withdrew_is_no_longer_trusted_after_the_cache_expires(
    issuer: Issuer,
) -> None:
    verifier = TokenVerifier(oidc_settings(issuer.url, auth_jwks_cache_s=0.2))
    verifier.verify(a_token())
    del issuer.keys["rsa-1"]
    time.sleep(0.25)

    with pytest.raises(InvalidToken, match="signing key is unknown"):
        verifier.verify(a_token())
    assert issuer.fetches == 2


def test_an_unreachable_issuer_is_a_503_not_the_clients_fault() -> None:
    verifier = TokenVerifier(oidc_settings(a_closed_port_url()))

    with pytest.raises(ServiceUnavailable) as outage:
        verifier.verify(a_token())

    assert outage.value.status == 503
    assert "127.0.0.1" not in outage.value.detail


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b'{"error": "down"}'), (200, b"<html>maintenance</html>"), (200, b'{"keys": []}')],
    ids=["server error", "not json", "no keys"],
)
def test_an_issuer_answering_nonsense_is_a_503(issuer: Issuer, status: int, body: bytes) -> None:
    issuer.status, issuer.body = status, body

    with pytest.raises(ServiceUnavailable):
        TokenVerifier(oidc_settings(issuer.url)).verify(a_token())


def test_a_token_with_a_refused_algorithm_never_reaches_the_issuer(issuer: Issuer) -> None:
    now = int(time.time())
    forged = jwt.encode({"sub": "x", "exp": now + 60}, None, algorithm="none")

    with pytest.raises(InvalidToken):
        TokenVerifier(oidc_settings(issuer.url)).verify(forged)
    with pytest.raises(InvalidToken):
        TokenVerifier(oidc_settings(a_closed_port_url())).verify(forged)
    assert issuer.fetches == 0


def test_roles_are_read_where_the_operator_says(issuer: Issuer) -> None:
    keycloak = a_token(
        drop=("roles",),
        realm_access={"roles": ["service", "offline_access", "default-roles-acme"]},
    )
    namespaced = a_token(drop=("roles",), **{"https://acme.example/roles": ["manager"]})

    from_realm = TokenVerifier(oidc_settings(issuer.url, auth_roles_claim="realm_access.roles"))
    from_namespace = TokenVerifier(
        oidc_settings(issuer.url, auth_roles_claim="https://acme.example/roles")
    )

    assert from_realm.verify(keycloak).roles == {"service"}
    assert from_namespace.verify(namespaced).roles == {"manager"}
    assert from_realm.verify(namespaced).roles == frozenset()


def test_a_roles_claim_that_is_not_a_list_of_strings_is_refused(issuer: Issuer) -> None:
    with pytest.raises(InvalidToken, match="roles claim"):
        TokenVerifier(oidc_settings(issuer.url)).verify(a_token(roles={"admin": True}))


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "tasks:read workers:write openid"}, {"tasks:read", "workers:write", "openid"}),
        ({"scp": ["tasks:read", "skills:read"]}, {"tasks:read", "skills:read"}),
        ({"scp": "matching:read", "scope": "tasks:read"}, {"matching:read", "tasks:read"}),
        ({}, set()),
    ],
    ids=["scope string", "scp list", "both", "none"],
)
def test_scopes_come_from_the_scope_or_scp_claim(
    issuer: Issuer, claims: dict[str, Any], scopes: set[str]
) -> None:
    user = TokenVerifier(oidc_settings(issuer.url)).verify(a_token(**claims))

    assert user.scopes == scopes
    assert user.has_scopes(*scopes)
    assert not user.has_scopes(*scopes, "tasks:write")


def test_oidc_mode_without_a_jwks_url_fails_at_start() -> None:
    with pytest.raises(ValueError, match="JWKS"):
        TokenVerifier(KernelSettings(auth_mode="oidc", auth_jwks_url=None))


def an_api(settings: KernelSettings) -> httpx.AsyncClient:
    app = FastAPI()
    app.state.verifier = TokenVerifier(settings)
    install_error_handlers(app)

    @app.get("/me")
    def me(user: User) -> dict[str, str]:
        return {"sub": user.sub}

    @app.get("/admin")
    def admin(user: CurrentUser = Depends(require_roles("admin"))) -> dict[str, str]:
        return {"sub": user.sub}

    @app.post("/tasks")
    def create(user: CurrentUser = Depends(require_scopes("tasks:write"))) -> dict[str, str]:
        return {"sub": user.sub}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_over_http_no_token_is_a_401_problem_without_an_error_code(issuer: Issuer) -> None:
    async with an_api(oidc_settings(issuer.url)) as api:
        response = await api.get("/me")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="taskforce"'


async def test_over_http_a_bad_token_is_a_401_problem_naming_invalid_token(issuer: Issuer) -> None:
    expired = a_token(exp=int(time.time()) - 3600)

    async with an_api(oidc_settings(issuer.url)) as api:
        response = await api.get("/me", headers=bearer(expired))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["detail"] == "The bearer token is not valid: the token has expired."


async def test_over_http_a_missing_role_or_scope_is_a_403_naming_insufficient_scope(
    issuer: Issuer,
) -> None:
    token = a_token(scope="tasks:read")

    async with an_api(oidc_settings(issuer.url)) as api:
        wrong_role = await api.get("/admin", headers=bearer(token))
        wrong_scope = await api.post("/tasks", headers=bearer(token))
        allowed = await api.post("/tasks", headers=bearer(a_token(scope="tasks:read tasks:write")))

    assert wrong_role.status_code == wrong_scope.status_code == 403
    assert wrong_role.headers["content-type"] == "application/problem+json"
    assert wrong_role.headers["www-authenticate"] == (
        'Bearer realm="taskforce", error="insufficient_scope"'
    )
    assert wrong_scope.headers["www-authenticate"] == (
        'Bearer realm="taskforce", error="insufficient_scope", scope="tasks:write"'
    )
    assert allowed.status_code == 200


async def test_over_http_an_unreachable_issuer_is_a_503_problem() -> None:
    async with an_api(oidc_settings(a_closed_port_url())) as api:
        response = await api.get("/me", headers=bearer(a_token()))

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"


def test_a_scope_the_kernel_does_not_define_cannot_be_required() -> None:
    with pytest.raises(ValueError, match="tasks:delete"):
        require_scopes("tasks:delete")
