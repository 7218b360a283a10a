"""Bearer JWT verification with PyJWT: a local HS256 key in the embedded mode, an OIDC issuer's
JWKS (RS256/ES256, issuer and audience checked) in production; `CurrentUser`, the scope names,
and the role and scope dependencies. Answers 401/403 as RFC 6750 says; never leaks PyJWT text."""

import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from services.kernel.errors import Forbidden, ServiceUnavailable, Unauthorized
from services.kernel.settings import KernelSettings

ROLES = frozenset({"worker", "manager", "admin", "service"})
# What a machine client (role `service`) may be granted; the gateway's policy requires them.
SCOPES = frozenset(
    {
        "tasks:read",
        "tasks:write",
        "workers:read",
        "workers:write",
        "skills:read",
        "skills:write",
        "matching:read",
        "matching:write",
    }
)
OIDC_ALGORITHMS = ("RS256", "ES256")
LOCAL_ALGORITHMS = ("HS256",)
REALM = 'Bearer realm="taskforce"'
log = logging.getLogger("taskforce.auth")


class InvalidToken(Unauthorized):
    """A token was presented and refused (RFC 6750 §3.1 `invalid_token`). `reason` is short,
    ours, and safe in a header: no quotes, no PyJWT message."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The bearer token is not valid: {reason}.")
        self.headers = {
            "WWW-Authenticate": f'{REALM}, error="invalid_token", error_description="{reason}"'
        }


class InsufficientScope(Forbidden):
    """A valid token without the role or scopes the action needs (RFC 6750 `insufficient_scope`)."""

    def __init__(self, detail: str, scopes: Iterable[str] = ()) -> None:
        header = f'{REALM}, error="insufficient_scope"'
        if scopes:
            header += f', scope="{" ".join(sorted(scopes))}"'
        super().__init__(detail, headers={"WWW-Authenticate": header})


@dataclass(frozen=True)
class CurrentUser:
    sub: str
    roles: frozenset[str]
    worker_id: str | None = None
    org_unit: str | None = None
    scopes: frozenset[str] = frozenset()

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def has_scopes(self, *scopes: str) -> bool:
        """True when the token grants every one of `scopes`."""
        return self.scopes.issuperset(scopes)


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
    scopes: Iterable[str] = (),
) -> str:
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")
    granted = sorted(set(scopes))
    unknown = set(granted) - SCOPES
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
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
    if granted:
        claims["scope"] = " ".join(granted)
    return jwt.encode(claims, load_local_key(settings.auth_local_key_file), algorithm="HS256")


# PyJWT's refusals as short reasons of our own; order matters (subclasses first).
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token is meant for another audience"),
    (jwt.InvalidIssuerError, "the token comes from another issuer"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "the signature does not verify"),
    (jwt.InvalidAlgorithmError, "the signing algorithm is not accepted"),
    (jwt.DecodeError, "the token is malformed"),
)


def _reason(exc: jwt.PyJWTError) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            if isinstance(exc, jwt.MissingRequiredClaimError):
                return f"the token lacks the {exc.claim} claim"
            return reason
    return "the token could not be verified"


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by dotted path into nested objects (`realm_access.roles`). A name
    that exists as it is wins, so namespaced claims such as `https://acme.example/roles` work."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _strings(value: Any, claim: str, split: bool) -> frozenset[str]:
    """A claim holding one string (space-separated when `split`) or a list of strings."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split()) if split else frozenset({value})
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    raise InvalidToken(f"the {claim} claim must be a string or a list of strings")


class TokenVerifier:
    """Verifies bearer tokens for one service; thread-safe (FastAPI calls it from its pool)."""

    def __init__(self, settings: KernelSettings) -> None:
        self.settings = settings
        self._jwks: jwt.PyJWKClient | None = None
        self._local_key: str | None = None
        self._algorithms: tuple[str, ...]
        if settings.auth_mode == "oidc":
            if not settings.auth_jwks_url:
                raise ValueError("TASKFORCE_AUTH_JWKS_URL is required when auth_mode is oidc")
            # PyJWKClient keeps the whole key set for `lifespan` seconds. A token naming a key
            # id the set lacks forces one refetch, unless any fetch succeeded less than
            # `cooldown_duration` ago: random key ids cannot make us hammer the issuer, and a
            # rotated key is picked up at most that long after it appears. No per-key cache:
            # it never expires, so a key the issuer withdrew would stay trusted.
            self._jwks = jwt.PyJWKClient(
                settings.auth_jwks_url,
                cache_jwk_set=True,
                lifespan=settings.auth_jwks_cache_s,
                cooldown_duration=settings.auth_jwks_refetch_min_s,
                timeout=settings.auth_jwks_timeout_s,
            )
            self._algorithms = OIDC_ALGORITHMS
        else:
            self._local_key = load_local_key(settings.auth_local_key_file)
            self._algorithms = LOCAL_ALGORITHMS

    def verify(self, token: str) -> CurrentUser:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("the token is malformed") from exc
        # Refused before any key lookup, so `alg: none` or HS256 forgeries never reach the JWKS.
        if header.get("alg") not in self._algorithms:
            raise InvalidToken("the signing algorithm is not accepted")
        key: jwt.PyJWK | str = (
            self._signing_key(header) if self._jwks is not None else str(self._local_key)
        )
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(self._algorithms),
                audience=self.settings.auth_audience,
                issuer=self.settings.auth_issuer,
                leeway=self.settings.auth_leeway_s,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(_reason(exc)) from exc
        return self._user(claims)

    def _signing_key(self, header: dict[str, Any]) -> jwt.PyJWK:
        assert self._jwks is not None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key")
        try:
            # The cached set, or the first fetch; failing here is the issuer's fault, not ours.
            keys = self._jwks.get_signing_keys()
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, ValueError, OSError) as exc:
            raise self._issuer_unavailable(exc) from exc
        known = self._jwks.match_kid(keys, kid)
        if known is not None:
            return known
        try:
            return self._jwks.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise self._issuer_unavailable(exc) from exc
        except (jwt.PyJWKClientError, jwt.PyJWKSetError) as exc:
            raise InvalidToken("the signing key is unknown") from exc
        except (ValueError, OSError) as exc:
            raise self._issuer_unavailable(exc) from exc

    def _issuer_unavailable(self, exc: Exception) -> ServiceUnavailable:
        log.warning("the issuer's JWKS cannot be used: %s", type(exc).__name__)
        return ServiceUnavailable(
            "The identity provider's signing keys cannot be fetched; retry later.",
            headers={"Retry-After": "5"},
        )

    def _user(self, claims: dict[str, Any]) -> CurrentUser:
        roles_claim = self.settings.auth_roles_claim
        roles = _strings(claim_at(claims, roles_claim), roles_claim, split=False)
        scopes = _strings(claims.get("scope"), "scope", split=True) | _strings(
            claims.get("scp"), "scp", split=True
        )
        worker_id, org_unit = claims.get("worker_id"), claims.get("org_unit")
        return CurrentUser(
            sub=str(claims["sub"]),
            roles=roles & ROLES,
            worker_id=None if worker_id is None else str(worker_id),
            org_unit=None if org_unit is None else str(org_unit),
            scopes=scopes,
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
            raise InsufficientScope(f"This action needs one of the roles: {', '.join(roles)}.")
        return user

    return dependency


def require_scopes(*scopes: str):  # type: ignore[no-untyped-def]
    """Dependency factory: the caller's token must grant every one of `scopes`."""
    unknown = set(scopes) - SCOPES
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")

    def dependency(user: User) -> CurrentUser:
        if not user.has_scopes(*scopes):
            raise InsufficientScope(
                f"This action needs the scopes: {' '.join(sorted(scopes))}.", scopes
            )
        return user

    return dependency


# Reading is GET and HEAD, and the actions that only compute an answer although they POST.
READ_METHODS = frozenset({"GET", "HEAD"})
READ_ACTIONS = (":normalize",)


def machine_scope(resource_of: Callable[[str], str]):  # type: ignore[no-untyped-def]
    """Router dependency: a machine client (the `service` role and no person's role) needs
    `<resource>:read` to read and `<resource>:write` for anything else, where `resource_of`
    names the resource of a request path. The gateway's policy applies the same rule; the
    service checks it again, so a token that reaches a service directly gains nothing."""

    def dependency(request: Request, user: User) -> None:
        if "service" not in user.roles or user.has_any("worker", "manager", "admin"):
            return
        path = request.url.path
        read = request.method in READ_METHODS or path.endswith(READ_ACTIONS)
        scope = f"{resource_of(path)}:{'read' if read else 'write'}"
        if not user.has_scopes(scope):
            raise InsufficientScope(f"This action needs the scope {scope}.", [scope])

    return dependency
