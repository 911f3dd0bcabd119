import uuid
from typing import Annotated

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.leads.activities import ActivityService
from leadroute.leads.schemas import (
    ActivitiesApplied,
    LeadActivityBatch,
    LeadCreate,
    LeadImport,
    LeadImportSummary,
    LeadRead,
    LeadUpdate,
)
from leadroute.leads.service import LeadService
from leadroute.routing import api_router

router = api_router(tags=["Leads"])


@router.post("/api/v2/leads", response_model=LeadRead)
def create_lead(
    body: LeadCreate,
    caller: Annotated[Caller, scoped("leads", "create")],
    session: SessionDep,
) -> LeadRead:
    """Create one lead in a campaign, a list, or neither.

    With a `skip_if_in_*` flag that matches, or an email already in the destination, nothing
    is created and the existing lead is answered.
    """
    return LeadRead.model_validate(LeadService(session, caller).create(body))


@router.post("/api/v2/leads/add", response_model=LeadImportSummary)
def add_leads(
    body: LeadImport,
    caller: Annotated[Caller, scoped("leads", "create")],
    session: SessionDep,
) -> LeadImportSummary:
    """Add 1..1000 leads to a campaign or a list; answers the import summary."""
    return LeadService(session, caller).import_leads(body)


@router.get("/api/v2/leads/{id}", response_model=LeadRead)
def get_lead(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("leads", "read")],
    session: SessionDep,
) -> LeadRead:
    """One lead."""
    return LeadRead.model_validate(LeadService(session, caller).get(id))


@router.patch("/api/v2/leads/{id}", response_model=LeadRead)
def update_lead(
    id: uuid.UUID,
    body: LeadUpdate,
    caller: Annotated[Caller, scoped("leads", "update")],
    session: SessionDep,
) -> LeadRead:
    """Write the given writable fields of a lead; `custom_variables` merge into the stored ones."""
    return LeadRead.model_validate(LeadService(session, caller).update(id, body))


@router.delete("/api/v2/leads/{id}", response_model=LeadRead)
def delete_lead(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("leads", "delete")],
    session: SessionDep,
) -> LeadRead:
    """Delete a lead; answers the deleted lead."""
    return LeadRead.model_validate(LeadService(session, caller).delete(id))


@router.post("/api/v2/lead-activities", response_model=ActivitiesApplied)
def record_lead_activities(
    body: LeadActivityBatch,
    caller: Annotated[Caller, scoped("leads", "update")],
    session: SessionDep,
) -> ActivitiesApplied:
    """[extension] Apply 1..1000 sending-engine events to the leads' engagement fields."""
    applied = ActivityService(session, caller.workspace_id).apply(body.activities)
    return ActivitiesApplied(applied=applied)
