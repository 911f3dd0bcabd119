"""Wire format of ``POST /api/v2/leads/bulk-assign``."""

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from leadroute.schemas import RequestModel, Timestamp, WireModel
from leadroute.selection import (
    MAX_QUERIES,
    MAX_SELECTION_IDS,
    FilterValue,
    LeadSelection,
    QueryClause,
    SearchTerm,
)

# Fields of a bulk-assign body that select leads (the rest say where they go and how).
SELECTION_FIELDS = frozenset(
    {
        "search",
        "filter",
        "campaign",
        "list_id",
        "in_campaign",
        "in_list",
        "smart_view_id",
        "ids",
        "queries",
        "assigned_to",
    }
)

MAX_TARGET_USERS = 1000

Strategy = Literal["round_robin", "weighted", "balanced"]


class BulkAssignRequest(RequestModel):
    """A selection of leads and the users to spread them over.

    ``organization_user_ids`` names the target users (in a lead list request it is a filter);
    ``assigned_to`` is a filter on the current owner, not a target.
    """

    organization_user_ids: list[Any] = Field(
        description="User ids of workspace members, in rotation order (1..1000)."
    )
    search: SearchTerm | None = None
    filter: FilterValue | None = None
    campaign: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    in_campaign: bool | None = None
    in_list: bool | None = None
    smart_view_id: uuid.UUID | None = None
    ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_SELECTION_IDS)
    queries: list[QueryClause] | None = Field(default=None, max_length=MAX_QUERIES)
    assigned_to: uuid.UUID | None = Field(
        default=None, description="Select leads whose current owner is this user."
    )
    limit: Annotated[int, Strict()] | None = Field(
        default=None, ge=0, description="At most this many selected leads take part."
    )
    has_clause: bool | None = Field(default=None, description="Accepted and ignored.")
    dry_run: bool = Field(
        default=False, description="[extension] Answer the counts the job would end with."
    )
    strategy: Strategy = Field(default="round_robin", description="[extension]")
    weights: list[Annotated[int, Strict()]] | None = Field(
        default=None, description="[extension] One positive integer per user (weighted)."
    )
    max_per_user: Annotated[int, Strict()] | None = Field(
        default=None, ge=0, description="[extension] Capacity of each user in this job."
    )
    only_unassigned: bool = Field(
        default=False, description="[extension] Select only leads with no owner."
    )

    def lead_selection(self) -> LeadSelection:
        return LeadSelection.model_validate(
            {
                field: getattr(self, field)
                for field in SELECTION_FIELDS
                if field in self.model_fields_set
            }
        )


class BulkAssignAccepted(WireModel):
    status: str = "accepted"
    message: str = "Your request will be processed in a background job"
    job_id: uuid.UUID


class AssignmentPreview(WireModel):
    total: int
    assigned_per_user: dict[str, int]
    unchanged: int
    over_capacity: int = Field(
        default=0, description="Leads left as they are because every user was at capacity."
    )


class AssignmentHistoryItem(WireModel):
    previous: uuid.UUID | None
    assigned_to: uuid.UUID | None
    job_id: uuid.UUID | None
    timestamp: Timestamp


class AssignmentHistory(WireModel):
    items: list[AssignmentHistoryItem]
