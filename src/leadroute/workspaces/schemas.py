import uuid

from pydantic import Field

from leadroute.schemas import RequestModel, Timestamp, WireModel


class WorkspaceUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    org_logo_url: str | None = Field(default=None, max_length=2048)


class WorkspaceRead(WireModel):
    """The fields of Instantly's Workspace that leadroute has; its plan fields do not apply."""

    id: uuid.UUID
    name: str
    owner: uuid.UUID | None
    org_logo_url: str | None
    timestamp_created: Timestamp
    timestamp_updated: Timestamp
