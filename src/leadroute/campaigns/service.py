"""Campaigns: containers of leads whose sending settings are stored, not acted on."""

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from leadroute.campaigns.models import Campaign
from leadroute.campaigns.repository import CampaignRepository
from leadroute.campaigns.schemas import CampaignCreate, CampaignFields, CampaignStatus
from leadroute.errors import BadRequest, NotFound
from leadroute.members.repository import MemberRepository


class CampaignService:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.campaigns = CampaignRepository(session, workspace_id)
        self.members = MemberRepository(session, workspace_id)
        self.workspace_id = workspace_id

    def get(self, campaign_id: uuid.UUID) -> Campaign:
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            raise NotFound(f"Campaign {campaign_id} not found")
        return campaign

    def page(
        self,
        *,
        limit: int,
        starting_after: uuid.UUID | None,
        search: str | None,
        status: CampaignStatus | None,
        exclude_status: CampaignStatus | None,
    ) -> tuple[Sequence[Campaign], uuid.UUID | None]:
        return self.campaigns.page(
            limit=limit,
            starting_after=starting_after,
            search=search,
            status=status,
            exclude_status=exclude_status,
        )

    def create(self, body: CampaignCreate) -> Campaign:
        """A new campaign is a draft (status 0): leadroute never sends, so never activates."""
        self._check_owner(body)
        return self.campaigns.add(
            Campaign(
                workspace_id=self.workspace_id,
                name=body.name,
                status=CampaignStatus.DRAFT,
                settings=body.stored_settings(),
            )
        )

    def update(self, campaign_id: uuid.UUID, body: CampaignFields) -> Campaign:
        """Replaces each given top-level field whole (a new `campaign_schedule` or `sequences`
        replaces the stored one; nested objects are not merged)."""
        campaign = self.get(campaign_id)
        if not body.model_fields_set:
            raise BadRequest("body: give at least one campaign field")
        self._check_owner(body)
        if body.name is not None:
            campaign.name = body.name
        changed = body.stored_settings()
        if changed:
            # A new dict, so the JSON column sees the change.
            campaign.settings = {**campaign.settings, **changed}
        self.campaigns.session.flush()
        return campaign

    def delete(self, campaign_id: uuid.UUID) -> Campaign:
        """Deletes the campaign and, as Instantly does, its leads (the foreign key cascades)."""
        campaign = self.get(campaign_id)
        self.campaigns.delete(campaign)
        return campaign

    def _check_owner(self, body: CampaignFields) -> None:
        owned_by = body.owned_by
        if owned_by is not None and owned_by not in self.members.member_user_ids([owned_by]):
            raise BadRequest(f"`owned_by`: {owned_by} is not a user of this workspace")
