"""Bearer JWT verification in the embedded (local key) mode."""

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.kernel.auth import InvalidToken, TokenVerifier, load_local_key, mint_local_token
from services.kernel.errors import Unauthorized
from services.kernel.settings import KernelSettings


@pytest.fixture
def settings(tmp_path: Path) -> KernelSettings:
    return KernelSettings(auth_local_key_file=tmp_path / "key")


def test_a_minted_token_carries_roles_and_worker_id(settings: KernelSettings) -> None:
    token = mint_local_token(settings, "alice", ["worker"], worker_id="w-1")
    user = TokenVerifier(settings).verify(token)
    assert (user.sub, user.roles, user.worker_id) == ("alice", frozenset({"worker"}), "w-1")


def test_unknown_roles_cannot_be_minted(settings: KernelSettings) -> None:
    with pytest.raises(ValueError, match="superuser"):
        mint_local_token(settings, "mallory", ["superuser"])


@pytest.mark.parametrize(
    "change",
    [
        {"exp": int(time.time()) - 3600},
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
    ],
)
def test_expired_or_foreign_tokens_are_refused(settings: KernelSettings, change: dict) -> None:
    key = load_local_key(settings.auth_local_key_file)
    claims = {
        "sub": "alice",
        "roles": ["admin"],
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "exp": int(time.time()) + 60,
    } | change
    with pytest.raises(Unauthorized):
        TokenVerifier(settings).verify(jwt.encode(claims, key, algorithm="HS256"))


def test_a_token_signed_with_another_key_is_refused(
    settings: KernelSettings, tmp_path: Path
) -> None:
    other = KernelSettings(auth_local_key_file=tmp_path / "other-key")
    with pytest.raises(Unauthorized):
        TokenVerifier(settings).verify(mint_local_token(other, "alice", ["admin"]))


def test_the_none_algorithm_is_refused(settings: KernelSettings) -> None:
    claims = {
        "sub": "alice",
        "roles": ["admin"],
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "exp": int(time.time()) + 60,
    }
    load_local_key(settings.auth_local_key_file)
    with pytest.raises(Unauthorized):
        TokenVerifier(settings).verify(jwt.encode(claims, None, algorithm="none"))


def test_a_minted_token_carries_its_scopes(settings: KernelSettings) -> None:
    token = mint_local_token(settings, "hris", ["service"], scopes=["workers:write", "tasks:read"])

    user = TokenVerifier(settings).verify(token)

    assert user.scopes == {"workers:write", "tasks:read"}
    assert jwt.decode(token, options={"verify_signature": False})["scope"] == (
        "tasks:read workers:write"
    )


def test_unknown_scopes_cannot_be_minted(settings: KernelSettings) -> None:
    with pytest.raises(ValueError, match="tasks:delete"):
        mint_local_token(settings, "hris", ["service"], scopes=["tasks:delete"])


def test_an_rs256_token_is_refused_in_local_mode(settings: KernelSettings) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    load_local_key(settings.auth_local_key_file)
    claims = {
        "sub": "alice",
        "roles": ["admin"],
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "exp": int(time.time()) + 60,
    }

    with pytest.raises(InvalidToken, match="algorithm is not accepted"):
        TokenVerifier(settings).verify(jwt.encode(claims, private_key, algorithm="RS256"))
