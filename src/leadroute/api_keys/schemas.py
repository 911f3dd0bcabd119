import uuid
from typing import Self

from pydantic import Field, field_validator

from leadroute.api_keys.catalog import KNOWN_SCOPES
from leadroute.api_keys.models import ApiKey
from leadroute.schemas import RequestModel, Timestamp, WireModel


class ApiKeyCreate(RequestModel):
    name: str = Field(min_length=1, max_length=255)
    scopes: list[str] = Field(
        min_length=1,
        max_length=len(KNOWN_SCOPES),
        description="`<resource>:<action>` scopes, as in Instantly, plus `smart_views:*`.",
    )

    @field_validator("scopes")
    @classmethod
    def _only_known_scopes(cls, scopes: list[str]) -> list[str]:
        unknown = [scope for scope in scopes if scope not in KNOWN_SCOPES]
        if unknown:
            raise ValueError("unknown scope " + ", ".join(f"`{scope}`" for scope in unknown))
        return scopes


class ApiKeyRead(WireModel):
    id: uuid.UUID
    name: str
    scopes: list[str]
    key: str = Field(
        description="The secret, only in the answer to its creation; elsewhere `<prefix>...`."
    )
    organization_id: uuid.UUID
    timestamp_created: Timestamp
    timestamp_updated: Timestamp

    @classmethod
    def of(cls, key: ApiKey, *, secret: str | None = None) -> Self:
        return cls(
            id=key.id,
            name=key.name,
            scopes=key.scopes,
            key=secret if secret is not None else f"{key.key_prefix}...",
            organization_id=key.workspace_id,
            timestamp_created=key.timestamp_created,
            timestamp_updated=key.timestamp_updated,
        )
