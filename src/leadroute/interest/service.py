"""Accepting an interest status update: validate, then queue a one-statement job."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadroute.auth.dependencies import Caller
from leadroute.errors import BadRequest
from leadroute.interest.kind import UPDATE_INTEREST_STATUS
from leadroute.interest.schemas import UpdateInterestStatusRequest
from leadroute.jobs.models import BackgroundJob
from leadroute.jobs.service import enqueue_job
from leadroute.lead_labels.models import LeadLabel
from leadroute.selection import check_campaign, check_lead_list

STATIC_INTEREST_STATUSES = frozenset({0, 1, 2, 3, 4, -1, -2, -3, -4})


def accept_interest_update(
    session: Session, caller: Caller, body: UpdateInterestStatusRequest
) -> BackgroundJob:
    workspace_id = caller.workspace_id
    value = body.interest_value
    if value is not None and value not in STATIC_INTEREST_STATUSES:
        custom = session.scalar(
            select(LeadLabel.id).where(
                LeadLabel.workspace_id == workspace_id, LeadLabel.interest_status == value
            )
        )
        if custom is None:
            raise BadRequest(
                f"`interest_value`: {value} is neither a standard interest status nor a "
                "lead label of this workspace"
            )
    if body.campaign_id is not None:
        check_campaign(session, workspace_id, body.campaign_id, field="campaign_id")
    if body.list_id is not None:
        check_lead_list(session, workspace_id, body.list_id, field="list_id")
    request = body.model_dump(mode="json", exclude_unset=True)
    return enqueue_job(
        session,
        workspace_id=workspace_id,
        user_id=caller.user_id,
        type=UPDATE_INTEREST_STATUS,
        entity_type="workspace",
        entity_id=str(workspace_id),
        data={"request": request, "updated_count": 0},
        state={
            "lead_email": body.lead_email,
            "interest_value": value,
            "campaign_id": str(body.campaign_id) if body.campaign_id else None,
            "list_id": str(body.list_id) if body.list_id else None,
        },
    )
