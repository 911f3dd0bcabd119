from typing import Annotated

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.jobs.schemas import BackgroundJobRead
from leadroute.moves.schemas import MoveLeadsRequest
from leadroute.moves.service import accept_move
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/leads", tags=["Leads"])


@router.post("/move", response_model=BackgroundJobRead)
def move_leads(
    body: MoveLeadsRequest,
    caller: Annotated[Caller, scoped("leads", "update")],
    session: SessionDep,
) -> BackgroundJobRead:
    """Move (or copy) the selected leads to a campaign or a list, as a `move-leads` job."""
    return BackgroundJobRead.from_job(accept_move(session, caller, body))
