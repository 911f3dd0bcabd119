import uuid
from typing import Annotated

from fastapi import Query

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.members.schemas import MemberCreate, MemberRead, MemberUpdate
from leadroute.members.service import MemberService
from leadroute.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, StartingAfter
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/workspace-members", tags=["Workspace member"])


@router.post("", response_model=MemberRead)
def create_workspace_member(
    body: MemberCreate,
    caller: Annotated[Caller, scoped("workspace_members", "create")],
    session: SessionDep,
) -> MemberRead:
    """Add a user (found or created by email) to the workspace with a role.

    No invitation is sent: the member is `accepted` at once. 409 if already a member.
    """
    return MemberRead.of(MemberService(session, caller.workspace_id).create(body))


@router.get("", response_model=Page[MemberRead])
def list_workspace_members(
    caller: Annotated[Caller, scoped("workspace_members", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
    accepted: bool | None = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
) -> Page[MemberRead]:
    """Members in id order; `search` matches email, name and nickname."""
    rows, cursor = MemberService(session, caller.workspace_id).page(
        limit=limit, starting_after=starting_after, accepted=accepted, search=search
    )
    return Page(
        items=[MemberRead.of(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.get("/{id}", response_model=MemberRead)
def get_workspace_member(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("workspace_members", "read")],
    session: SessionDep,
) -> MemberRead:
    """One member, by membership id."""
    return MemberRead.of(MemberService(session, caller.workspace_id).get(id))


@router.patch("/{id}", response_model=MemberRead)
def update_workspace_member(
    id: uuid.UUID,
    body: MemberUpdate,
    caller: Annotated[Caller, scoped("workspace_members", "update")],
    session: SessionDep,
) -> MemberRead:
    """Change a member's `nickname` or `role`; the owner's role cannot change."""
    return MemberRead.of(MemberService(session, caller.workspace_id).update(id, body))


@router.delete("/{id}", response_model=MemberRead)
def delete_workspace_member(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("workspace_members", "delete")],
    session: SessionDep,
) -> MemberRead:
    """Remove a member (not the owner); answers the removed member."""
    return MemberRead.of(MemberService(session, caller.workspace_id).delete(id))
