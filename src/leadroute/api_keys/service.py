"""Issuing and revoking API keys."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadroute.api_keys.models import ApiKey
from leadroute.api_keys.schemas import ApiKeyCreate
from leadroute.auth.keys import generate_secret, hash_secret
from leadroute.errors import Forbidden, NotFound
from leadroute.ids import utcnow
from leadroute.pagination import fetch_page


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


class ApiKeyService:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def issue(self, *, name: str, scopes: list[str], created_by: uuid.UUID | None) -> IssuedKey:
        secret = generate_secret()
        key = ApiKey(
            workspace_id=self.workspace_id,
            name=name,
            scopes=list(dict.fromkeys(scopes)),
            key_hash=hash_secret(secret),
            key_prefix=secret[:10],
            created_by=created_by,
        )
        self.session.add(key)
        self.session.flush()
        return IssuedKey(key=key, secret=secret)

    def create(
        self, body: ApiKeyCreate, *, granted: frozenset[str], created_by: uuid.UUID | None
    ) -> IssuedKey:
        """Issues a key with ``body.scopes``, each of which the calling key must itself hold.

        Without that rule a key with only `api_keys:create` could mint an `all:all` key.
        """
        beyond = [scope for scope in body.scopes if not _covers(granted, scope)]
        if beyond:
            raise Forbidden(
                "`scopes`: the calling API key cannot grant "
                + ", ".join(f"`{scope}`" for scope in beyond)
                + " (a key may only grant scopes it holds)"
            )
        return self.issue(name=body.name, scopes=body.scopes, created_by=created_by)

    def page(
        self, *, limit: int, starting_after: uuid.UUID | None
    ) -> tuple[Sequence[ApiKey], uuid.UUID | None]:
        statement = select(ApiKey).where(
            ApiKey.workspace_id == self.workspace_id, ApiKey.revoked_at.is_(None)
        )
        return fetch_page(
            self.session, statement, ApiKey.id, limit=limit, starting_after=starting_after
        )

    def revoke(self, key_id: uuid.UUID) -> ApiKey:
        """Revokes at once: the next request with this key gets 401."""
        key = self.session.scalar(
            select(ApiKey).where(
                ApiKey.workspace_id == self.workspace_id,
                ApiKey.id == key_id,
                ApiKey.revoked_at.is_(None),
            )
        )
        if key is None:
            raise NotFound(f"API key {key_id} not found")
        key.revoked_at = utcnow()
        self.session.flush()
        return key


def _covers(granted: frozenset[str], scope: str) -> bool:
    """Whether ``granted`` includes everything ``scope`` would grant.

    For `r:a` that is any of `r:a`, `r:all`, `all:a`, `all:all`; for `r:all`, `all:a` and
    `all:all` the same four collapse to exactly the scopes at least as wide.
    """
    resource, _, action = scope.partition(":")
    return not {scope, f"{resource}:all", f"all:{action}", "all:all"}.isdisjoint(granted)
