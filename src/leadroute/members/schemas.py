import re
import uuid
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, Field

from leadroute.members.models import WorkspaceMember
from leadroute.schemas import RequestModel, Timestamp, WireModel

Role = Literal["owner", "admin", "editor", "view", "client"]
# Through the API a member can only be given these: a workspace has exactly one owner (its
# creator), and `client` is Instantly's white-label role, which leadroute does not have.
AssignableRole = Literal["admin", "editor", "view"]

Permission = Literal[
    "dashboard.view",
    "campaigns.view",
    "campaigns.create",
    "campaigns.edit",
    "campaigns.delete",
    "organization.manage",
    "organization.integrations",
    "organization.billing",
    "organization.users.manage",
    "leadFinder.view",
    "customLeadLabels.create",
    "customLeadLabels.edit",
    "customLeadLabels.delete",
    "unibox.all",
    "analytics.view",
    "websiteChat.view",
    "websiteChat.manage",
    "agency.manage",
    "accounts.view",
    "accounts.manage",
    "leadManagement.view",
    "leads.move",
    "crm.view",
    "websiteVisitors.view",
    "blocklist.manage",
    "preferences.manage",
    "inboxPlacement.view",
    "aiAgents.manage",
    "workspaceGroupMembers.invite",
    "workspaceGroupMembers.remove",
    "workspaceGroupMembers.leave",
]

# Deliberately loose (one @, no spaces, a dot in the domain): leadroute sends no mail, so the
# address only has to be recognisably an address; it is stored lower-cased.
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL_SHAPE.match(value):
        raise ValueError("is not an email address")
    return value.lower()


EmailAddress = Annotated[
    str, Field(max_length=320, json_schema_extra={"format": "email"}), AfterValidator(_check_email)
]


class MemberCreate(RequestModel):
    email: EmailAddress
    role: AssignableRole
    nickname: str | None = Field(default=None, max_length=80)
    permissions: list[Permission] | None = None


class MemberUpdate(RequestModel):
    nickname: str | None = Field(default=None, max_length=80)
    role: AssignableRole | None = None


def _is_none(value: object) -> bool:
    return value is None


class MemberName(BaseModel):
    """The user's name; a part that is not known is left out (the schema has no nulls here).

    ``exclude_if`` rather than a model serializer keeps the fields in the OpenAPI document.
    """

    first: str | None = Field(default=None, exclude_if=_is_none)
    last: str | None = Field(default=None, exclude_if=_is_none)


class MemberRead(WireModel):
    id: uuid.UUID = Field(description="The membership id.")
    user_id: uuid.UUID = Field(description="The user id: what leads are assigned to.")
    email: str
    role: Role
    workspace_id: uuid.UUID
    accepted: bool
    timestamp_created: Timestamp
    name: MemberName | None = Field(
        default=None, exclude_if=_is_none, description="Absent when the name is unknown."
    )
    nickname: str | None
    permissions: list[Permission] | None

    @classmethod
    def of(cls, member: WorkspaceMember) -> Self:
        user = member.user
        known_name = user.first_name is not None or user.last_name is not None
        return cls(
            id=member.id,
            user_id=member.user_id,
            email=user.email,
            role=member.role,
            workspace_id=member.workspace_id,
            accepted=member.accepted,
            timestamp_created=member.timestamp_created,
            name=MemberName(first=user.first_name, last=user.last_name) if known_name else None,
            nickname=member.nickname,
            permissions=member.permissions,
        )
