import uuid
from typing import Annotated

from fastapi import Query

from leadroute.auth.dependencies import Caller, scoped
from leadroute.campaigns.schemas import CampaignCreate, CampaignRead, CampaignStatus, CampaignUpdate
from leadroute.campaigns.service import CampaignService
from leadroute.db.session import SessionDep
from leadroute.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, StartingAfter
from leadroute.routing import api_router

# exclude_unset: a campaign answers the settings it was given and no others.
router = api_router(prefix="/api/v2/campaigns", tags=["Campaign"])


@router.post("", response_model=CampaignRead, response_model_exclude_unset=True)
def create_campaign(
    body: CampaignCreate,
    caller: Annotated[Caller, scoped("campaigns", "create")],
    session: SessionDep,
) -> CampaignRead:
    """Create a campaign (a draft). Its settings are stored as given and answered back."""
    return CampaignRead.of(CampaignService(session, caller.workspace_id).create(body))


@router.get("", response_model=Page[CampaignRead], response_model_exclude_unset=True)
def list_campaigns(
    caller: Annotated[Caller, scoped("campaigns", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
    status: CampaignStatus | None = None,
    exclude_status: CampaignStatus | None = None,
) -> Page[CampaignRead]:
    """Campaigns in id order; `search` matches the name."""
    rows, cursor = CampaignService(session, caller.workspace_id).page(
        limit=limit,
        starting_after=starting_after,
        search=search,
        status=status,
        exclude_status=exclude_status,
    )
    return Page(
        items=[CampaignRead.of(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.get("/{id}", response_model=CampaignRead, response_model_exclude_unset=True)
def get_campaign(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("campaigns", "read")],
    session: SessionDep,
) -> CampaignRead:
    """One campaign."""
    return CampaignRead.of(CampaignService(session, caller.workspace_id).get(id))


@router.patch("/{id}", response_model=CampaignRead, response_model_exclude_unset=True)
def update_campaign(
    id: uuid.UUID,
    body: CampaignUpdate,
    caller: Annotated[Caller, scoped("campaigns", "update")],
    session: SessionDep,
) -> CampaignRead:
    """Change any of the campaign's fields; each given field replaces the stored one whole."""
    return CampaignRead.of(CampaignService(session, caller.workspace_id).update(id, body))


@router.delete("/{id}", response_model=CampaignRead, response_model_exclude_unset=True)
def delete_campaign(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("campaigns", "delete")],
    session: SessionDep,
) -> CampaignRead:
    """Delete a campaign and the leads in it; answers the deleted campaign."""
    return CampaignRead.of(CampaignService(session, caller.workspace_id).delete(id))
