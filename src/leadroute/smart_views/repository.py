import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from leadroute.pagination import fetch_page
from leadroute.search import contains_ignoring_case
from leadroute.smart_views.models import SmartView


class SmartViewRepository:
    """Smart views of one workspace; no query here can see another workspace's views."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def readable(self) -> Select[SmartView]:
        return select(SmartView).where(SmartView.workspace_id == self.workspace_id)

    def get(self, view_id: uuid.UUID) -> SmartView | None:
        return self.session.scalar(self.readable().where(SmartView.id == view_id))

    def page(
        self, *, limit: int, starting_after: uuid.UUID | None, search: str | None
    ) -> tuple[Sequence[SmartView], uuid.UUID | None]:
        statement = self.readable()
        if search:
            statement = statement.where(contains_ignoring_case(SmartView.name, search))
        return fetch_page(
            self.session, statement, SmartView.id, limit=limit, starting_after=starting_after
        )

    def add(self, view: SmartView) -> SmartView:
        self.session.add(view)
        self.session.flush()
        return view

    def delete(self, view: SmartView) -> None:
        self.session.delete(view)
        self.session.flush()
