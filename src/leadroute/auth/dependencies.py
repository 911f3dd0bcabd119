"""Who is calling: the bearer key resolved to its workspace, and the scope each endpoint needs.

Endpoints declare ``key: Annotated[Caller, RequireScope("leads", "read")]``; the caller's
``workspace_id`` is then what every repository query is scoped to.
"""

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from leadroute.api_keys.models import ApiKey
from leadroute.auth.caller import Caller
from leadroute.auth.key_cache import ApiKeyCache
from leadroute.auth.keys import hash_secret
from leadroute.auth.scopes import Action, grants
from leadroute.db.session import Database, get_database
from leadroute.errors import Forbidden, Unauthorized
from leadroute.rate_limits import WorkspaceRateLimiter

__all__ = ["Caller", "CurrentKey", "RequireScope", "authenticate", "scoped"]

bearer_scheme = HTTPBearer(
    scheme_name="ApiKeyAuth",
    auto_error=False,
    description="An API key of the workspace: `Authorization: Bearer <key>`.",
)


BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def find_caller(database: Database, digest: str) -> Caller | None:
    """The unrevoked key with this digest, read in its own short read-only session.

    Not the request's session: on SQLite a write request's session holds the write lock
    from its first statement, and checking a key needs no lock.
    """
    with database.read_sessions() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        if (
            key is None
            or key.revoked_at is not None
            or not hmac.compare_digest(key.key_hash, digest)
        ):
            return None
        return Caller(
            api_key_id=key.id,
            workspace_id=key.workspace_id,
            user_id=key.created_by,
            scopes=frozenset(key.scopes),
        )


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """The request's key, from the key cache or the database; then its rate limit.

    ``async``: a cached key and in-process rate limit counters cost no thread-pool hop; the
    lookup and Redis, which block, run in the pool.
    """
    if credentials is None or not credentials.credentials:
        raise Unauthorized(
            "Missing API key: send `Authorization: Bearer <key>`", headers=BEARER_CHALLENGE
        )
    digest = hash_secret(credentials.credentials)
    keys: ApiKeyCache = request.app.state.api_keys
    caller = keys.get(digest)
    if caller is None:
        caller = await run_in_threadpool(find_caller, get_database(request), digest)
        if caller is None:
            raise Unauthorized("Invalid or revoked API key", headers=BEARER_CHALLENGE)
        keys.put(digest, caller)
    request.state.caller = caller
    # Per-workspace rate limits count authenticated requests only (see leadroute.rate_limits).
    rate_limiter: WorkspaceRateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if rate_limiter is not None:
        if rate_limiter.counts_in_process:
            rate_limiter.check(caller.workspace_id)
        else:
            await run_in_threadpool(rate_limiter.check, caller.workspace_id)
    return caller


CurrentKey = Annotated[Caller, Depends(authenticate)]


class RequireScope:
    """A dependency that authenticates and then checks one ``resource:action`` scope."""

    def __init__(self, resource: str, action: Action) -> None:
        self.resource = resource
        self.action = action

    async def __call__(self, caller: CurrentKey) -> Caller:
        if not grants(caller.scopes, self.resource, self.action):
            raise Forbidden(
                f"API key lacks the scope `{self.resource}:{self.action}` "
                f"(or `{self.resource}:all`, `all:{self.action}`, `all:all`)"
            )
        return caller


def scoped(resource: str, action: Action) -> object:
    """``Annotated[Caller, scoped("leads", "read")]`` in an endpoint signature."""
    return Depends(RequireScope(resource, action))
