"""[extension] ``GET /api/v2/leads/owner-counts``: how many leads each user owns.

Instantly has no endpoint that counts leads per owner; the dashboard's chart needs one. It is
one ``GROUP BY assigned_to`` over the workspace's leads (the ``(workspace_id, assigned_to,
id)`` index covers it), so it costs the same whatever the owners' names or the leads' fields.

Decisions where the contract is silent:
- Every user that owns at least one lead is listed, member or not: leads keep a deleted
  member's user id (section 3), and an operator needs to see them to move them on. Members
  that own nothing are not listed (a client merges the list with the members it shows).
- Items are in ``user_id`` order, the contract's default order, and not paginated: there is
  at most one item per user who ever owned a lead in the workspace.

``routers.py`` registers this router before ``leads.router``, whose ``GET /leads/{id}`` would
otherwise take the path (and answer 400: not a UUID).
"""

import uuid
from typing import Annotated

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.leads.models import Lead
from leadroute.routing import api_router
from leadroute.schemas import WireModel


class OwnerCount(WireModel):
    user_id: uuid.UUID = Field(description="The owner's user id (`assigned_to` of the leads).")
    count: int = Field(description="Leads of the workspace owned by this user.")


class OwnerCounts(WireModel):
    items: list[OwnerCount] = Field(description="One item per owner, in `user_id` order.")
    unassigned: int = Field(description="Leads of the workspace with no owner.")


def count_leads_by_owner(session: Session, workspace_id: uuid.UUID) -> OwnerCounts:
    """One grouped count of the workspace's leads by ``assigned_to`` (NULL = unassigned)."""
    rows = session.execute(
        select(Lead.assigned_to, func.count())
        .where(Lead.workspace_id == workspace_id)
        .group_by(Lead.assigned_to)
    ).all()
    unassigned = 0
    items = []
    for owner, count in rows:
        if owner is None:
            unassigned = count
        else:
            items.append(OwnerCount(user_id=owner, count=count))
    items.sort(key=lambda item: item.user_id)
    return OwnerCounts(items=items, unassigned=unassigned)


router = api_router(prefix="/api/v2/leads", tags=["Leads"])


@router.get("/owner-counts", response_model=OwnerCounts)
def lead_owner_counts(
    caller: Annotated[Caller, scoped("leads", "read")],
    session: SessionDep,
) -> OwnerCounts:
    """[extension] How many of the workspace's leads each user owns, and how many have no
    owner. Users that own no lead are not listed."""
    return count_leads_by_owner(session, caller.workspace_id)
