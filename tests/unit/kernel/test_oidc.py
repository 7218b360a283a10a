"""Production token verification: RS256 tokens checked against an issuer's JWKS, served by a
real HTTP server on loopback, with issuer and audience enforced."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.kernel.auth import TokenVerifier
from services.kernel.errors import Unauthorized
from services.kernel.settings import KernelSettings

ISSUER, AUDIENCE = "https://login.example.test/realms/acme", "taskforce-api"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/certs"
    server.shutdown()


def a_token(key=KEY, kid: str = "k1", **claims: object) -> str:  # type: ignore[no-untyped-def]
    payload = {
        "sub": "svc-hris",
        "roles": ["service"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 300,
    } | claims
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(
        KernelSettings(
            auth_mode="oidc", auth_jwks_url=jwks_url, auth_issuer=ISSUER, auth_audience=AUDIENCE
        )
    )


def test_a_token_signed_by_the_issuer_is_accepted(jwks_url: str) -> None:
    user = verifier(jwks_url).verify(a_token())
    assert user.sub == "svc-hris" and user.roles == frozenset({"service"})


@pytest.mark.parametrize(
    "token",
    [
        a_token(key=OTHER_KEY),
        a_token(iss="https://evil.example.test"),
        a_token(aud="another-api"),
        a_token(exp=int(time.time()) - 3600),
        a_token(kid="unknown"),
    ],
    ids=["foreign key", "issuer", "audience", "expired", "unknown kid"],
)
def test_tokens_the_issuer_did_not_sign_for_us_are_refused(jwks_url: str, token: str) -> None:
    with pytest.raises(Unauthorized):
        verifier(jwks_url).verify(token)


def test_an_hs256_token_is_refused_in_oidc_mode(jwks_url: str) -> None:
    forged = jwt.encode(
        {
            "sub": "x",
            "roles": ["admin"],
            "iss": ISSUER,
            "aud": AUDIENCE,
            "exp": int(time.time()) + 60,
        },
        "a-shared-secret-of-at-least-32-bytes!",
        algorithm="HS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(Unauthorized):
        verifier(jwks_url).verify(forged)


def test_oidc_mode_without_a_jwks_url_fails_at_start() -> None:
    with pytest.raises(ValueError, match="JWKS"):
        TokenVerifier(KernelSettings(auth_mode="oidc", auth_jwks_url=None))
