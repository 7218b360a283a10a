"""Bearer JWT verification with PyJWT: a local HS256 key in the embedded mode, an OIDC issuer's
JWKS (with issuer and audience checked) in production; `CurrentUser` and role dependencies."""

import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import jwt
from fastapi import Depends, Request

from services.kernel.errors import Forbidden, Unauthorized
from services.kernel.settings import KernelSettings

ROLES = frozenset({"worker", "manager", "admin", "service"})


@dataclass(frozen=True)
class CurrentUser:
    sub: str
    roles: frozenset[str]
    worker_id: str | None = None
    org_unit: str | None = None

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def load_local_key(path: Path, create: bool = True) -> str:
    """The embedded mode's signing secret, created (0600) on first use."""
    if not path.exists():
        if not create:
            raise FileNotFoundError(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def mint_local_token(
    settings: KernelSettings,
    sub: str,
    roles: list[str],
    worker_id: str | None = None,
    org_unit: str | None = None,
    ttl_s: int = 12 * 3600,
) -> str:
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")
    now = int(time.time())
    claims: dict = {
        "sub": sub,
        "roles": roles,
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    if worker_id:
        claims["worker_id"] = worker_id
    if org_unit:
        claims["org_unit"] = org_unit
    return jwt.encode(claims, load_local_key(settings.auth_local_key_file), algorithm="HS256")


class TokenVerifier:
    def __init__(self, settings: KernelSettings) -> None:
        self.settings = settings
        self._jwks: jwt.PyJWKClient | None = None
        self._local_key: str | None = None
        if settings.auth_mode == "oidc":
            if not settings.auth_jwks_url:
                raise ValueError("TASKFORCE_AUTH_JWKS_URL is required when auth_mode is oidc")
            # PyJWKClient caches the key set and refetches it on an unknown key id.
            self._jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True, lifespan=300)
        else:
            self._local_key = load_local_key(settings.auth_local_key_file)

    def verify(self, token: str) -> CurrentUser:
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256", "ES256"]
            else:
                key, algorithms = self._local_key, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.settings.auth_audience,
                issuer=self.settings.auth_issuer,
                leeway=self.settings.auth_leeway_s,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Invalid token: {exc}") from exc
        roles = claims.get("roles") or []
        if not isinstance(roles, list):
            raise Unauthorized("Invalid token: roles must be a list")
        return CurrentUser(
            sub=str(claims["sub"]),
            roles=frozenset(map(str, roles)) & ROLES,
            worker_id=claims.get("worker_id"),
            org_unit=claims.get("org_unit"),
        )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def current_user(request: Request) -> CurrentUser:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(bearer_token(request))


User = Annotated[CurrentUser, Depends(current_user)]


def require_roles(*roles: str):  # type: ignore[no-untyped-def]
    """Dependency factory: the caller must hold one of `roles`."""

    def dependency(user: User) -> CurrentUser:
        if not user.has_any(*roles):
            raise Forbidden(f"This action needs one of the roles: {', '.join(roles)}.")
        return user

    return dependency
