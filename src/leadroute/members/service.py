"""Workspace members: users with a role in one workspace.

leadroute sends no invitations (it has no mail), so a member exists as soon as it is created
and is always ``accepted: true``. Users are global, one per lower-cased email: adding a
member finds the user with that email or creates it.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadroute.errors import BadRequest, Conflict, NotFound
from leadroute.members.models import WorkspaceMember
from leadroute.members.repository import MemberRepository, UserRepository
from leadroute.members.schemas import MemberCreate, MemberUpdate

OWNER_ROLE = "owner"


class MemberService:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.members = MemberRepository(session, workspace_id)
        self.users = UserRepository(session)
        self.workspace_id = workspace_id

    def get(self, member_id: uuid.UUID) -> WorkspaceMember:
        member = self.members.get(member_id)
        if member is None:
            raise NotFound(f"Workspace member {member_id} not found")
        return member

    def page(
        self,
        *,
        limit: int,
        starting_after: uuid.UUID | None,
        accepted: bool | None,
        search: str | None,
    ) -> tuple[Sequence[WorkspaceMember], uuid.UUID | None]:
        return self.members.page(
            limit=limit, starting_after=starting_after, accepted=accepted, search=search
        )

    def create(self, body: MemberCreate) -> WorkspaceMember:
        user = self.users.get_or_create(body.email)
        if self.members.get_by_user(user.id) is not None:
            raise Conflict(f"`email`: {user.email} is already a member of this workspace")
        member = WorkspaceMember(
            workspace_id=self.workspace_id,
            user_id=user.id,
            user=user,
            role=body.role,
            accepted=True,
            nickname=body.nickname,
            permissions=list(body.permissions) if body.permissions is not None else None,
        )
        try:
            # The unique (workspace, user) decides between two concurrent adds of one email.
            with self.session.begin_nested():
                self.members.add(member)
        except IntegrityError:
            raise Conflict(f"`email`: {user.email} is already a member of this workspace") from None
        return member

    def update(self, member_id: uuid.UUID, body: MemberUpdate) -> WorkspaceMember:
        member = self.get(member_id)
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            raise BadRequest("body: give at least one of `nickname`, `role`")
        if "role" in changes:
            if changes["role"] is None:
                raise BadRequest("`role`: must not be null")
            if member.role == OWNER_ROLE:
                raise BadRequest("`role`: the workspace owner's role cannot be changed")
        for field, value in changes.items():
            setattr(member, field, value)
        self.session.flush()
        return member

    def delete(self, member_id: uuid.UUID) -> WorkspaceMember:
        """Removes the membership (the user stays, it may belong to other workspaces).

        Leads assigned to the member's user keep that value, as the contract decides.
        """
        member = self.get(member_id)
        if member.role == OWNER_ROLE:
            raise BadRequest("The workspace owner cannot be removed")
        self.members.delete(member)
        return member
