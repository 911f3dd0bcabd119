import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from leadroute.lead_lists.models import LeadList
from leadroute.pagination import fetch_page
from leadroute.search import contains_ignoring_case


class LeadListRepository:
    """Lead lists of one workspace; no query here can see another workspace's lists."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def readable(self) -> Select[LeadList]:
        return select(LeadList).where(LeadList.workspace_id == self.workspace_id)

    def get(self, list_id: uuid.UUID) -> LeadList | None:
        return self.session.scalar(self.readable().where(LeadList.id == list_id))

    def page(
        self,
        *,
        limit: int,
        starting_after: uuid.UUID | None,
        search: str | None,
        has_enrichment_task: bool | None,
    ) -> tuple[Sequence[LeadList], uuid.UUID | None]:
        statement = self.readable()
        if search:
            statement = statement.where(contains_ignoring_case(LeadList.name, search))
        if has_enrichment_task is not None:
            statement = statement.where(LeadList.has_enrichment_task == has_enrichment_task)
        return fetch_page(
            self.session, statement, LeadList.id, limit=limit, starting_after=starting_after
        )

    def add(self, lead_list: LeadList) -> LeadList:
        self.session.add(lead_list)
        self.session.flush()
        return lead_list

    def delete(self, lead_list: LeadList) -> None:
        self.session.delete(lead_list)
        self.session.flush()
