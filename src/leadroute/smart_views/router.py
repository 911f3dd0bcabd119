import uuid
from typing import Annotated

from fastapi import Query

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, StartingAfter
from leadroute.routing import api_router
from leadroute.smart_views.schemas import SmartViewCreate, SmartViewRead, SmartViewUpdate
from leadroute.smart_views.service import SmartViewService

router = api_router(prefix="/api/v2/smart-views", tags=["Smart views"])


@router.post("", response_model=SmartViewRead)
def create_smart_view(
    body: SmartViewCreate,
    caller: Annotated[Caller, scoped("smart_views", "create")],
    session: SessionDep,
) -> SmartViewRead:
    """Store a named selection; `smart_view_id` in a lead request ANDs it in [extension]."""
    view = SmartViewService(session, caller.workspace_id).create(body)
    return SmartViewRead.of(view)


@router.get("", response_model=Page[SmartViewRead])
def list_smart_views(
    caller: Annotated[Caller, scoped("smart_views", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
) -> Page[SmartViewRead]:
    """Smart views in id order; `search` matches the name."""
    rows, cursor = SmartViewService(session, caller.workspace_id).page(
        limit=limit, starting_after=starting_after, search=search
    )
    return Page(
        items=[SmartViewRead.of(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.get("/{id}", response_model=SmartViewRead)
def get_smart_view(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("smart_views", "read")],
    session: SessionDep,
) -> SmartViewRead:
    """One smart view."""
    return SmartViewRead.of(SmartViewService(session, caller.workspace_id).get(id))


@router.patch("/{id}", response_model=SmartViewRead)
def update_smart_view(
    id: uuid.UUID,
    body: SmartViewUpdate,
    caller: Annotated[Caller, scoped("smart_views", "update")],
    session: SessionDep,
) -> SmartViewRead:
    """Rename a view or change its selection (a field set to null is cleared)."""
    view = SmartViewService(session, caller.workspace_id).update(id, body)
    return SmartViewRead.of(view)


@router.delete("/{id}", response_model=SmartViewRead)
def delete_smart_view(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("smart_views", "delete")],
    session: SessionDep,
) -> SmartViewRead:
    """Delete a view; answers the deleted view. Leads are not touched."""
    view = SmartViewService(session, caller.workspace_id).delete(id)
    return SmartViewRead.of(view)
