"""Wire format of smart views: a name and the selection fields a view may store."""

import uuid
from typing import Any

from pydantic import Field

from leadroute.schemas import RequestModel, Timestamp, WireModel
from leadroute.selection import (
    MAX_QUERIES,
    MAX_SELECTION_USERS,
    FilterValue,
    QueryClause,
    SearchTerm,
)
from leadroute.smart_views.models import SmartView

STORED_FIELDS = (
    "search",
    "filter",
    "campaign",
    "list_id",
    "in_campaign",
    "in_list",
    "queries",
    "organization_user_ids",
)


class SmartViewSelection(RequestModel):
    """The selection fields a smart view stores (spec section 3), typed as in requests."""

    search: SearchTerm | None = None
    filter: FilterValue | None = None
    campaign: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    in_campaign: bool | None = None
    in_list: bool | None = None
    queries: list[QueryClause] | None = Field(default=None, max_length=MAX_QUERIES)
    organization_user_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=MAX_SELECTION_USERS
    )


class SmartViewCreate(SmartViewSelection):
    name: str = Field(min_length=1, max_length=255)


class SmartViewUpdate(SmartViewSelection):
    """Given fields replace the stored ones; a selection field set to null is cleared."""

    name: str | None = Field(default=None, min_length=1, max_length=255)


class SmartViewRead(WireModel):
    id: uuid.UUID
    name: str
    organization_id: uuid.UUID
    timestamp_created: Timestamp
    search: str | None = None
    filter: FilterValue | None = None
    campaign: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    in_campaign: bool | None = None
    in_list: bool | None = None
    queries: list[QueryClause] | None = None
    organization_user_ids: list[uuid.UUID] | None = None

    @classmethod
    def of(cls, view: SmartView) -> "SmartViewRead":
        stored: dict[str, Any] = {k: v for k, v in view.selection.items() if k in STORED_FIELDS}
        return cls.model_validate(
            {
                "id": view.id,
                "name": view.name,
                "organization_id": view.workspace_id,
                "timestamp_created": view.timestamp_created,
                **stored,
            }
        )
