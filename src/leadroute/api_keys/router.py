import uuid
from typing import Annotated

from fastapi import Request

from leadroute.api_keys.schemas import ApiKeyCreate, ApiKeyRead
from leadroute.api_keys.service import ApiKeyService
from leadroute.auth.dependencies import Caller, scoped
from leadroute.auth.key_cache import ApiKeyCache
from leadroute.db.session import SessionDep
from leadroute.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, StartingAfter
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/api-keys", tags=["API key"])


@router.post("", response_model=ApiKeyRead)
def create_api_key(
    body: ApiKeyCreate,
    caller: Annotated[Caller, scoped("api_keys", "create")],
    session: SessionDep,
) -> ApiKeyRead:
    """Create a key. The secret is in `key` of this answer only: it is stored as a hash."""
    issued = ApiKeyService(session, caller.workspace_id).create(
        body, granted=caller.scopes, created_by=caller.user_id
    )
    return ApiKeyRead.of(issued.key, secret=issued.secret)


@router.get("", response_model=Page[ApiKeyRead])
def list_api_keys(
    caller: Annotated[Caller, scoped("api_keys", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
) -> Page[ApiKeyRead]:
    """Keys that are not revoked, in id order; `key` shows only the secret's first characters."""
    rows, cursor = ApiKeyService(session, caller.workspace_id).page(
        limit=limit, starting_after=starting_after
    )
    return Page(
        items=[ApiKeyRead.of(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.delete("/{id}", response_model=ApiKeyRead)
def delete_api_key(
    id: uuid.UUID,
    request: Request,
    caller: Annotated[Caller, scoped("api_keys", "delete")],
    session: SessionDep,
) -> ApiKeyRead:
    """Revoke a key at once (the next request with it gets 401); answers the revoked key."""
    revoked = ApiKeyRead.of(ApiKeyService(session, caller.workspace_id).revoke(id))
    # The revocation must be committed before the key cache forgets the key: otherwise a
    # request in between could read the key as valid and remember it again.
    session.commit()
    keys: ApiKeyCache = request.app.state.api_keys
    keys.forget(id)
    return revoked
