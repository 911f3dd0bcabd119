import uuid
from typing import Annotated

from fastapi import Query

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.lead_lists.schemas import LeadListCreate, LeadListRead, LeadListUpdate
from leadroute.lead_lists.service import LeadListService
from leadroute.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, StartingAfter
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/lead-lists", tags=["Lead lists"])


@router.post("", response_model=LeadListRead)
def create_lead_list(
    body: LeadListCreate,
    caller: Annotated[Caller, scoped("lead_lists", "create")],
    session: SessionDep,
) -> LeadListRead:
    """Create a lead list."""
    lead_list = LeadListService(session, caller.workspace_id).create(body)
    return LeadListRead.model_validate(lead_list)


@router.get("", response_model=Page[LeadListRead])
def list_lead_lists(
    caller: Annotated[Caller, scoped("lead_lists", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
    has_enrichment_task: bool | None = None,
) -> Page[LeadListRead]:
    """Lead lists in id order; `search` matches the name."""
    rows, cursor = LeadListService(session, caller.workspace_id).page(
        limit=limit,
        starting_after=starting_after,
        search=search,
        has_enrichment_task=has_enrichment_task,
    )
    return Page(
        items=[LeadListRead.model_validate(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.get("/{id}", response_model=LeadListRead)
def get_lead_list(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("lead_lists", "read")],
    session: SessionDep,
) -> LeadListRead:
    """One lead list."""
    return LeadListRead.model_validate(LeadListService(session, caller.workspace_id).get(id))


@router.patch("/{id}", response_model=LeadListRead)
def update_lead_list(
    id: uuid.UUID,
    body: LeadListUpdate,
    caller: Annotated[Caller, scoped("lead_lists", "update")],
    session: SessionDep,
) -> LeadListRead:
    """Rename a list or change its owner."""
    lead_list = LeadListService(session, caller.workspace_id).update(id, body)
    return LeadListRead.model_validate(lead_list)


@router.delete("/{id}", response_model=LeadListRead)
def delete_lead_list(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("lead_lists", "delete")],
    session: SessionDep,
) -> LeadListRead:
    """Delete a list and the leads in it; answers the deleted list."""
    lead_list = LeadListService(session, caller.workspace_id).delete(id)
    return LeadListRead.model_validate(lead_list)
