from typing import Annotated

from fastapi import Response

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.interest.schemas import UpdateInterestStatusAccepted, UpdateInterestStatusRequest
from leadroute.interest.service import accept_interest_update
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/leads", tags=["Leads"])


@router.post(
    "/update-interest-status", status_code=202, response_model=UpdateInterestStatusAccepted
)
def update_interest_status(
    body: UpdateInterestStatusRequest,
    response: Response,
    caller: Annotated[Caller, scoped("leads", "update")],
    session: SessionDep,
) -> UpdateInterestStatusAccepted:
    """Set (or, with `interest_value: null`, reset) the interest status of the leads with
    `lead_email`, optionally only in `campaign_id` / `list_id`, as a background job."""
    job = accept_interest_update(session, caller, body)
    response.headers["Location"] = f"/api/v2/background-jobs/{job.id}"
    return UpdateInterestStatusAccepted(
        message="Interest status update accepted and will be processed in a background job",
        job_id=job.id,
    )
