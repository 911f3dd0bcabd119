import uuid

from pydantic import Field

from leadroute.schemas import RequestModel, Timestamp, WireModel


class LeadListCreate(RequestModel):
    name: str = Field(min_length=1, max_length=255)
    has_enrichment_task: bool | None = None
    owned_by: uuid.UUID | None = None


class LeadListUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    has_enrichment_task: bool | None = None
    owned_by: uuid.UUID | None = None


class LeadListRead(WireModel):
    id: uuid.UUID
    organization_id: uuid.UUID = Field(validation_alias="workspace_id")
    name: str
    has_enrichment_task: bool | None
    owned_by: uuid.UUID | None
    timestamp_created: Timestamp
