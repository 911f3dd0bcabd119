"""Workspaces: creating one with its owner and first key, reading and renaming it."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadroute.api_keys.service import ApiKeyService
from leadroute.errors import BadRequest, NotFound
from leadroute.members.models import WorkspaceMember
from leadroute.members.repository import UserRepository
from leadroute.workspaces.models import Workspace
from leadroute.workspaces.schemas import WorkspaceUpdate


@dataclass(frozen=True)
class CreatedWorkspace:
    workspace_id: uuid.UUID
    owner_user_id: uuid.UUID
    api_key: str


def create_workspace(session: Session, *, name: str, owner_email: str) -> CreatedWorkspace:
    """A workspace, its owner (user and member) and an ``all:all`` key created by the owner."""
    owner = UserRepository(session).get_or_create(owner_email)
    workspace = Workspace(name=name, owner=owner.id)
    session.add(workspace)
    session.flush()
    session.add(
        WorkspaceMember(workspace_id=workspace.id, user_id=owner.id, role="owner", accepted=True)
    )
    issued = ApiKeyService(session, workspace.id).issue(
        name="Owner key", scopes=["all:all"], created_by=owner.id
    )
    return CreatedWorkspace(
        workspace_id=workspace.id, owner_user_id=owner.id, api_key=issued.secret
    )


def workspace_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Workspace)) or 0


def get_workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found")
    return workspace


def update_workspace(session: Session, workspace_id: uuid.UUID, body: WorkspaceUpdate) -> Workspace:
    """Renames the workspace or changes its logo; the owner is not writable through the API."""
    workspace = get_workspace(session, workspace_id)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise BadRequest("body: give at least one of `name`, `org_logo_url`")
    if "name" in changes and changes["name"] is None:
        raise BadRequest("`name`: must not be null")
    for field, value in changes.items():
        setattr(workspace, field, value)
    session.flush()
    return workspace
