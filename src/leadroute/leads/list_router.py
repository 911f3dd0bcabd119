"""``POST /api/v2/leads/list`` and ``DELETE /api/v2/leads``: leads chosen by a selection."""

from typing import Annotated

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep, read_only_endpoint
from leadroute.leads.list_service import (
    BulkDeleteLeadsRequest,
    DeletedCount,
    LeadListRequest,
    delete_leads,
    list_leads,
)
from leadroute.leads.schemas import LeadRead
from leadroute.pagination import Page
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/leads", tags=["Leads"])


@router.post("/list", response_model=Page[LeadRead])
@read_only_endpoint
def list_selected_leads(
    body: LeadListRequest,
    caller: Annotated[Caller, scoped("leads", "read")],
    session: SessionDep,
) -> Page[LeadRead]:
    """Leads matching the selection (section 4 of the contract), in id order."""
    rows, cursor = list_leads(session, caller.workspace_id, body)
    return Page(
        items=[LeadRead.model_validate(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.delete("", response_model=DeletedCount)
def bulk_delete_leads(
    body: BulkDeleteLeadsRequest,
    caller: Annotated[Caller, scoped("leads", "delete")],
    session: SessionDep,
) -> DeletedCount:
    """Delete the leads of a campaign or list (optionally by `status`, `ids`, up to `limit`)."""
    return DeletedCount(count=delete_leads(session, caller.workspace_id, body))
