"""Smart views: named selections, validated like a request's selection when stored."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from leadroute.errors import BadRequest, NotFound
from leadroute.selection import LeadSelection, check_references
from leadroute.smart_views.models import SmartView
from leadroute.smart_views.repository import SmartViewRepository
from leadroute.smart_views.schemas import (
    STORED_FIELDS,
    SmartViewCreate,
    SmartViewSelection,
    SmartViewUpdate,
)


class SmartViewService:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.views = SmartViewRepository(session, workspace_id)
        self.workspace_id = workspace_id

    def get(self, view_id: uuid.UUID) -> SmartView:
        view = self.views.get(view_id)
        if view is None:
            raise NotFound(f"Smart view {view_id} not found")
        return view

    def page(
        self, *, limit: int, starting_after: uuid.UUID | None, search: str | None
    ) -> tuple[Sequence[SmartView], uuid.UUID | None]:
        return self.views.page(limit=limit, starting_after=starting_after, search=search)

    def create(self, body: SmartViewCreate) -> SmartView:
        selection = self._checked(body, body.model_fields_set)
        return self.views.add(
            SmartView(workspace_id=self.workspace_id, name=body.name, selection=selection)
        )

    def update(self, view_id: uuid.UUID, body: SmartViewUpdate) -> SmartView:
        """Given fields replace the stored ones; only the given references are re-checked.

        A view whose campaign was deleted since can still be renamed: it selects nothing
        from that campaign until its ``campaign`` is changed.
        """
        view = self.get(view_id)
        given = body.model_fields_set
        if not given:
            raise BadRequest("body: give `name` or at least one selection field")
        if "name" in given:
            if body.name is None:
                raise BadRequest("`name`: must not be null")
            view.name = body.name
        changes = self._checked(body, given)
        selection = {
            key: value
            for key, value in view.selection.items()
            if key in STORED_FIELDS and key not in given
        }
        selection.update(changes)
        view.selection = selection
        self.session.flush()
        return view

    def delete(self, view_id: uuid.UUID) -> SmartView:
        view = self.get(view_id)
        self.views.delete(view)
        return view

    def _checked(self, body: SmartViewSelection, given: set[str]) -> dict[str, Any]:
        """The given selection fields as stored JSON, after checking what they reference."""
        fields = set(STORED_FIELDS) & given
        stored = body.model_dump(mode="json", include=fields, exclude_none=True, by_alias=True)
        check_references(self.session, self.workspace_id, LeadSelection.model_validate(stored))
        return stored
