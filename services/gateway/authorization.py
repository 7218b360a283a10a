"""The gateway's coarse authorization as a FastAPI dependency: the verified, rate-limited caller,
once the policy lets one of their roles (and a service's scopes) call this method and path.
Refusals are 403 problem+json with `WWW-Authenticate: Bearer ... insufficient_scope`."""

from typing import Annotated

from fastapi import Depends, Request

from services.gateway.policy import refusal
from services.gateway.ratelimit import RateLimitedUser
from services.kernel.auth import CurrentUser, InsufficientScope


async def authorized(request: Request, user: RateLimitedUser) -> CurrentUser:
    # The decoded path, as the upstream's router will see it once it decodes the raw path
    # the proxy passes on; `request.url.path` would re-escape some characters.
    refused = refusal(request.method, request.scope["path"], user.roles, user.scopes)
    if refused is not None:
        raise InsufficientScope(refused.detail, refused.scopes)
    return user


Authorized = Annotated[CurrentUser, Depends(authorized)]
