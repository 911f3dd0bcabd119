"""Who is calling: the bearer key resolved to its workspace, and the scope each endpoint needs.

Endpoints declare ``key: Annotated[Caller, RequireScope("leads", "read")]``; the caller's
``workspace_id`` is then what every repository query is scoped to.
"""

import hmac
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from leadroute.api_keys.models import ApiKey
from leadroute.auth.keys import hash_secret
from leadroute.auth.scopes import Action, grants
from leadroute.db.session import SessionDep
from leadroute.errors import Forbidden, Unauthorized
from leadroute.rate_limits import WorkspaceRateLimiter

bearer_scheme = HTTPBearer(
    scheme_name="ApiKeyAuth",
    auto_error=False,
    description="An API key of the workspace: `Authorization: Bearer <key>`.",
)


BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated API key of a request."""

    api_key_id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID | None
    scopes: frozenset[str]


def authenticate(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise Unauthorized(
            "Missing API key: send `Authorization: Bearer <key>`", headers=BEARER_CHALLENGE
        )
    digest = hash_secret(credentials.credentials)
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, digest):
        raise Unauthorized("Invalid or revoked API key", headers=BEARER_CHALLENGE)
    caller = Caller(
        api_key_id=key.id,
        workspace_id=key.workspace_id,
        user_id=key.created_by,
        scopes=frozenset(key.scopes),
    )
    request.state.caller = caller
    # Per-workspace rate limits count authenticated requests only (see leadroute.rate_limits).
    rate_limiter: WorkspaceRateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if rate_limiter is not None:
        rate_limiter.check(caller.workspace_id)
    return caller


CurrentKey = Annotated[Caller, Depends(authenticate)]


class RequireScope:
    """A dependency that authenticates and then checks one ``resource:action`` scope."""

    def __init__(self, resource: str, action: Action) -> None:
        self.resource = resource
        self.action = action

    def __call__(self, caller: CurrentKey) -> Caller:
        if not grants(caller.scopes, self.resource, self.action):
            raise Forbidden(
                f"API key lacks the scope `{self.resource}:{self.action}` "
                f"(or `{self.resource}:all`, `all:{self.action}`, `all:all`)"
            )
        return caller


def scoped(resource: str, action: Action) -> object:
    """``Annotated[Caller, scoped("leads", "read")]`` in an endpoint signature."""
    return Depends(RequireScope(resource, action))
