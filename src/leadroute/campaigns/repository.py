import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from leadroute.campaigns.models import Campaign
from leadroute.pagination import fetch_page
from leadroute.search import contains_ignoring_case


class CampaignRepository:
    """Campaigns of one workspace; no query here can see another workspace's campaigns."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def readable(self) -> Select[Campaign]:
        return select(Campaign).where(Campaign.workspace_id == self.workspace_id)

    def get(self, campaign_id: uuid.UUID) -> Campaign | None:
        return self.session.scalar(self.readable().where(Campaign.id == campaign_id))

    def page(
        self,
        *,
        limit: int,
        starting_after: uuid.UUID | None,
        search: str | None,
        status: int | None,
        exclude_status: int | None,
    ) -> tuple[Sequence[Campaign], uuid.UUID | None]:
        statement = self.readable()
        if search:
            statement = statement.where(contains_ignoring_case(Campaign.name, search))
        if status is not None:
            statement = statement.where(Campaign.status == status)
        if exclude_status is not None:
            statement = statement.where(Campaign.status != exclude_status)
        return fetch_page(
            self.session, statement, Campaign.id, limit=limit, starting_after=starting_after
        )

    def add(self, campaign: Campaign) -> Campaign:
        self.session.add(campaign)
        self.session.flush()
        return campaign

    def delete(self, campaign: Campaign) -> None:
        self.session.delete(campaign)
        self.session.flush()
