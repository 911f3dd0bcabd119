import uuid
from typing import Annotated

from fastapi import Query

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.lead_labels.schemas import LeadLabelCreate, LeadLabelRead, LeadLabelUpdate
from leadroute.lead_labels.service import LeadLabelService
from leadroute.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, StartingAfter
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/lead-labels", tags=["Lead label"])


@router.post("", response_model=LeadLabelRead)
def create_lead_label(
    body: LeadLabelCreate,
    caller: Annotated[Caller, scoped("lead-labels", "create")],
    session: SessionDep,
) -> LeadLabelRead:
    """Create a custom interest status; without `interest_status` the next free one is taken."""
    label = LeadLabelService(session, caller.workspace_id).create(body, created_by=caller.user_id)
    return LeadLabelRead.of(label)


@router.get("", response_model=Page[LeadLabelRead])
def list_lead_labels(
    caller: Annotated[Caller, scoped("lead-labels", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
) -> Page[LeadLabelRead]:
    """Lead labels in id order; `search` matches the label."""
    rows, cursor = LeadLabelService(session, caller.workspace_id).page(
        limit=limit, starting_after=starting_after, search=search
    )
    return Page(
        items=[LeadLabelRead.of(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.get("/{id}", response_model=LeadLabelRead)
def get_lead_label(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("lead-labels", "read")],
    session: SessionDep,
) -> LeadLabelRead:
    """One lead label."""
    return LeadLabelRead.of(LeadLabelService(session, caller.workspace_id).get(id))


@router.patch("/{id}", response_model=LeadLabelRead)
def update_lead_label(
    id: uuid.UUID,
    body: LeadLabelUpdate,
    caller: Annotated[Caller, scoped("lead-labels", "update")],
    session: SessionDep,
) -> LeadLabelRead:
    """Change the label, its sentiment, description or `use_with_ai` (not its number)."""
    return LeadLabelRead.of(LeadLabelService(session, caller.workspace_id).update(id, body))


@router.delete("/{id}", response_model=LeadLabelRead)
def delete_lead_label(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("lead-labels", "delete")],
    session: SessionDep,
) -> LeadLabelRead:
    """Delete a lead label; answers the deleted label."""
    return LeadLabelRead.of(LeadLabelService(session, caller.workspace_id).delete(id))
