import uuid
from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from leadroute.lead_labels.models import LeadLabel
from leadroute.leads.models import Lead
from leadroute.pagination import fetch_page
from leadroute.search import contains_ignoring_case


class LeadLabelRepository:
    """Lead labels of one workspace; no query here can see another workspace's labels."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def readable(self) -> Select[LeadLabel]:
        return select(LeadLabel).where(LeadLabel.workspace_id == self.workspace_id)

    def get(self, label_id: uuid.UUID) -> LeadLabel | None:
        return self.session.scalar(self.readable().where(LeadLabel.id == label_id))

    def get_by_interest_status(self, interest_status: int) -> LeadLabel | None:
        return self.session.scalar(
            self.readable().where(LeadLabel.interest_status == interest_status)
        )

    def used_interest_statuses(self) -> set[int]:
        return set(
            self.session.scalars(
                select(LeadLabel.interest_status).where(LeadLabel.workspace_id == self.workspace_id)
            )
        )

    def highest_lead_interest_status(self) -> int | None:
        """The largest interest status any lead of the workspace carries (an index lookup)."""
        return self.session.scalar(
            select(func.max(Lead.lt_interest_status)).where(Lead.workspace_id == self.workspace_id)
        )

    def page(
        self, *, limit: int, starting_after: uuid.UUID | None, search: str | None
    ) -> tuple[Sequence[LeadLabel], uuid.UUID | None]:
        statement = self.readable()
        if search:
            statement = statement.where(contains_ignoring_case(LeadLabel.label, search))
        return fetch_page(
            self.session, statement, LeadLabel.id, limit=limit, starting_after=starting_after
        )

    def add(self, label: LeadLabel) -> LeadLabel:
        self.session.add(label)
        self.session.flush()
        return label

    def delete(self, label: LeadLabel) -> None:
        self.session.delete(label)
        self.session.flush()
