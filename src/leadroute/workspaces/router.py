from typing import Annotated

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.routing import api_router
from leadroute.workspaces.schemas import WorkspaceRead, WorkspaceUpdate
from leadroute.workspaces.service import get_workspace, update_workspace

router = api_router(prefix="/api/v2/workspaces", tags=["Workspace"])


@router.get("/current", response_model=WorkspaceRead)
def get_current_workspace(
    caller: Annotated[Caller, scoped("workspaces", "read")],
    session: SessionDep,
) -> WorkspaceRead:
    """The workspace of the calling API key."""
    return WorkspaceRead.model_validate(get_workspace(session, caller.workspace_id))


@router.patch("/current", response_model=WorkspaceRead)
def update_current_workspace(
    body: WorkspaceUpdate,
    caller: Annotated[Caller, scoped("workspaces", "update")],
    session: SessionDep,
) -> WorkspaceRead:
    """Change the workspace's `name` or `org_logo_url` (at least one)."""
    return WorkspaceRead.model_validate(update_workspace(session, caller.workspace_id, body))
