"""Lead lists: named containers of leads."""

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from leadroute.errors import BadRequest, NotFound
from leadroute.lead_lists.models import LeadList
from leadroute.lead_lists.repository import LeadListRepository
from leadroute.lead_lists.schemas import LeadListCreate, LeadListUpdate
from leadroute.members.repository import MemberRepository


class LeadListService:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.lists = LeadListRepository(session, workspace_id)
        self.members = MemberRepository(session, workspace_id)
        self.workspace_id = workspace_id

    def get(self, list_id: uuid.UUID) -> LeadList:
        lead_list = self.lists.get(list_id)
        if lead_list is None:
            raise NotFound(f"Lead list {list_id} not found")
        return lead_list

    def page(
        self,
        *,
        limit: int,
        starting_after: uuid.UUID | None,
        search: str | None,
        has_enrichment_task: bool | None,
    ) -> tuple[Sequence[LeadList], uuid.UUID | None]:
        return self.lists.page(
            limit=limit,
            starting_after=starting_after,
            search=search,
            has_enrichment_task=has_enrichment_task,
        )

    def create(self, body: LeadListCreate) -> LeadList:
        self._check_owner(body.owned_by)
        return self.lists.add(
            LeadList(
                workspace_id=self.workspace_id,
                name=body.name,
                has_enrichment_task=body.has_enrichment_task,
                owned_by=body.owned_by,
            )
        )

    def update(self, list_id: uuid.UUID, body: LeadListUpdate) -> LeadList:
        lead_list = self.get(list_id)
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            raise BadRequest("body: give at least one of `name`, `has_enrichment_task`, `owned_by`")
        if "name" in changes and changes["name"] is None:
            raise BadRequest("`name`: must not be null")
        self._check_owner(changes.get("owned_by"))
        for field, value in changes.items():
            setattr(lead_list, field, value)
        self.lists.session.flush()
        return lead_list

    def delete(self, list_id: uuid.UUID) -> LeadList:
        """Deletes the list and, as Instantly does, the leads in it."""
        lead_list = self.get(list_id)
        self.lists.delete(lead_list)
        return lead_list

    def _check_owner(self, owned_by: uuid.UUID | None) -> None:
        if owned_by is not None and owned_by not in self.members.member_user_ids([owned_by]):
            raise BadRequest(f"`owned_by`: {owned_by} is not a user of this workspace")
