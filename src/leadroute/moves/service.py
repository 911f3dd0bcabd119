"""Accepting a move: validate destination, owner and selection, then queue the job."""

from typing import Any

from sqlalchemy.orm import Session

from leadroute.assignment import sql
from leadroute.assignment.service import assignment_queue_key
from leadroute.auth.dependencies import Caller
from leadroute.errors import BadRequest
from leadroute.jobs.models import BackgroundJob
from leadroute.jobs.service import enqueue_job
from leadroute.members.repository import MemberRepository
from leadroute.moves.kind import MOVE_LEADS
from leadroute.moves.schemas import MoveLeadsRequest
from leadroute.selection import check_campaign, check_lead_list, resolve_selection


def accept_move(session: Session, caller: Caller, body: MoveLeadsRequest) -> BackgroundJob:
    workspace_id = caller.workspace_id
    if (body.to_campaign_id is None) == (body.to_list_id is None):
        raise BadRequest("give exactly one of `to_campaign_id` and `to_list_id`")
    if body.to_campaign_id is not None:
        check_campaign(session, workspace_id, body.to_campaign_id, field="to_campaign_id")
    if body.to_list_id is not None:
        check_lead_list(session, workspace_id, body.to_list_id, field="to_list_id")
    if body.assigned_to is not None and body.assigned_to not in MemberRepository(
        session, workspace_id
    ).member_user_ids([body.assigned_to]):
        raise BadRequest(f"`assigned_to`: {body.assigned_to} is not a user of this workspace")
    resolved = resolve_selection(session, workspace_id, body.lead_selection())
    high_water_mark = sql.high_water_mark(session, workspace_id)
    request: dict[str, Any] = body.model_dump(mode="json", exclude_unset=True)
    destination = body.to_campaign_id or body.to_list_id
    return enqueue_job(
        session,
        workspace_id=workspace_id,
        user_id=caller.user_id,
        type=MOVE_LEADS,
        entity_type="campaign" if body.to_campaign_id else "list",
        entity_id=str(destination),
        data={
            "total_to_process": 0,
            "success_count": 0,
            "skipped_count": 0,
            "failed_count": 0,
            "request": request,
        },
        state={
            "selection": resolved.model_dump(mode="json"),
            "high_water_mark": str(high_water_mark) if high_water_mark else None,
            "cursor": None,
            "position": 0,
            "counted": False,
            "limit": body.limit,
            "to_campaign_id": str(body.to_campaign_id) if body.to_campaign_id else None,
            "to_list_id": str(body.to_list_id) if body.to_list_id else None,
            "assigned_to": str(body.assigned_to) if body.assigned_to else None,
            "copy_leads": body.copy_leads,
            "check_duplicates": body.check_duplicates,
            "check_duplicates_in_campaigns": body.check_duplicates_in_campaigns,
            "reset_interest_status": body.reset_interest_status,
        },
        # Moving changes containers and owners: it waits its turn behind assignments.
        queue_key=assignment_queue_key(workspace_id),
    )
