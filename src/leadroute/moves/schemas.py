"""Wire format of ``POST /api/v2/leads/move``."""

import uuid

from pydantic import Field

from leadroute.selection import LeadSelection

# Fields of a move body that select leads; `assigned_to` here is the NEW owner.
MOVE_SELECTION_FIELDS = frozenset(
    {
        "search",
        "filter",
        "campaign",
        "list_id",
        "in_campaign",
        "in_list",
        "ids",
        "queries",
        "excluded_ids",
        "contacts",
        "smart_view_id",
        "esg_code",
    }
)


class MoveLeadsRequest(LeadSelection):
    """A selection of leads and where they go: a campaign or a list (exactly one)."""

    to_campaign_id: uuid.UUID | None = None
    to_list_id: uuid.UUID | None = None
    assigned_to: uuid.UUID | None = Field(
        default=None, description="The moved leads' new owner (a member's user id)."
    )
    copy_leads: bool = Field(default=False, description="Copy instead of moving.")
    check_duplicates: bool = Field(
        default=False, description="Skip leads whose email is already in the destination."
    )
    check_duplicates_in_campaigns: bool = Field(
        default=False, description="Skip leads whose email is in any campaign of the workspace."
    )
    reset_interest_status: bool = False
    limit: int | None = Field(default=None, ge=1, description="At most this many leads.")
    ignore_resource_filter_clauses: bool | None = None
    skip_leads_in_verification: bool | None = None

    def lead_selection(self) -> LeadSelection:
        return LeadSelection.model_validate(
            {
                field: getattr(self, field)
                for field in MOVE_SELECTION_FIELDS
                if field in self.model_fields_set
            }
        )
