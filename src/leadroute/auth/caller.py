"""Who a request is: the API key it authenticated with, resolved to its workspace."""

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated API key of a request."""

    api_key_id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID | None
    scopes: frozenset[str]
