import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from leadroute.leads.models import Lead
from leadroute.workspaces.models import Workspace


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a new lead goes: a campaign, a list, or neither (a lead of the workspace only)."""

    campaign: uuid.UUID | None = None
    list_id: uuid.UUID | None = None

    def holds(self) -> ColumnElement[bool]:
        """The leads already in this destination."""
        if self.campaign is not None:
            return Lead.campaign == self.campaign
        if self.list_id is not None:
            return Lead.list_id == self.list_id
        return and_(Lead.campaign.is_(None), Lead.list_id.is_(None))


@dataclass(frozen=True, slots=True)
class SkipRules:
    """The ``skip_if_in_*`` flags of a create or an import."""

    in_workspace: bool = False
    in_campaign: bool = False
    in_list: bool = False

    def matches(self) -> ColumnElement[bool]:
        """Existing leads that make a new lead with the same email be skipped."""
        if self.in_workspace:
            return true()
        conditions = []
        if self.in_campaign:
            conditions.append(Lead.campaign.is_not(None))
        if self.in_list:
            conditions.append(Lead.list_id.is_not(None))
        return or_(false(), *conditions)


@dataclass(frozen=True, slots=True)
class EmailPresence:
    """What the workspace already holds for one (lower-cased) email."""

    in_destination: bool
    skipped: bool


class LeadRepository:
    """Leads of one workspace; no query here can see another workspace's leads."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def readable(self) -> Select[Lead]:
        return select(Lead).where(Lead.workspace_id == self.workspace_id)

    def get(self, lead_id: uuid.UUID) -> Lead | None:
        return self.session.scalar(self.readable().where(Lead.id == lead_id))

    def reload(self, lead_id: uuid.UUID) -> Lead | None:
        """The lead as the database has it now (after a Core UPDATE of some columns)."""
        return self.session.scalar(
            self.readable().where(Lead.id == lead_id).execution_options(populate_existing=True)
        )

    def payload_for_update(self, lead_id: uuid.UUID) -> dict[str, Any] | None:
        """The custom variables, with the row locked until commit so a merge loses nothing."""
        statement = (
            select(Lead.payload)
            .where(Lead.workspace_id == self.workspace_id, Lead.id == lead_id)
            .with_for_update(key_share=True)
        )
        return self.session.scalar(statement)

    def update_columns(self, lead_id: uuid.UUID, values: Mapping[str, Any]) -> None:
        """``UPDATE leads SET <only these columns>``: a concurrent write of any other column of
        the lead (a bulk-assign job's ``assigned_to``, an activity's counters) is kept."""
        self.session.execute(
            update(Lead)
            .where(Lead.workspace_id == self.workspace_id, Lead.id == lead_id)
            .values(dict(values))
            .execution_options(synchronize_session=False)
        )

    def delete(self, lead_id: uuid.UUID) -> None:
        self.session.execute(
            delete(Lead)
            .where(Lead.workspace_id == self.workspace_id, Lead.id == lead_id)
            .execution_options(synchronize_session=False)
        )

    def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """One multi-row INSERT (executemany) for the whole batch."""
        if rows:
            self.session.execute(insert(Lead), list(rows))

    def serialize_imports(self) -> None:
        """Holds the workspace row until commit, so two imports into one workspace run one
        after the other and the duplicate and skip rules see each other's leads.

        ``FOR NO KEY UPDATE`` does not block inserts that reference the workspace. SQLite
        needs nothing: its write transactions already run one at a time.
        """
        self.session.execute(
            select(Workspace.id)
            .where(Workspace.id == self.workspace_id)
            .with_for_update(key_share=True)
        )

    def email_presence(
        self, emails: Iterable[str], destination: Destination, skip: SkipRules
    ) -> dict[str, EmailPresence]:
        """For each lower-cased email the workspace already holds: is it in ``destination``,
        and does it make a new lead be skipped. One query for the whole batch."""
        wanted = sorted(set(emails))
        if not wanted:
            return {}
        email = func.lower(Lead.email)
        statement = (
            select(
                email,
                func.max(case((destination.holds(), 1), else_=0)),
                func.max(case((skip.matches(), 1), else_=0)),
            )
            .where(Lead.workspace_id == self.workspace_id, email.in_(wanted))
            .group_by(email)
        )
        return {
            found: EmailPresence(in_destination=bool(in_destination), skipped=bool(skipped))
            for found, in_destination, skipped in self.session.execute(statement)
        }

    def first_existing(self, email: str, destination: Destination, skip: SkipRules) -> Lead | None:
        """The lead a create with this email stands for instead of a new one, if any: one
        already in the destination first, else the oldest one a skip rule matches."""
        return self.session.scalar(
            self.readable()
            .where(func.lower(Lead.email) == email, or_(destination.holds(), skip.matches()))
            .order_by(case((destination.holds(), 0), else_=1), Lead.id)
            .limit(1)
        )

    def ids_of(self, lead_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``lead_ids`` are leads of this workspace."""
        wanted = list(set(lead_ids))
        if not wanted:
            return set()
        return set(
            self.session.scalars(
                select(Lead.id).where(Lead.workspace_id == self.workspace_id, Lead.id.in_(wanted))
            )
        )

    def ids_by_email(self, emails: Iterable[str]) -> dict[str, list[uuid.UUID]]:
        """Lead ids of this workspace per lower-cased email, for the given lower-cased emails."""
        wanted = sorted(set(emails))
        if not wanted:
            return {}
        email = func.lower(Lead.email)
        found: dict[str, list[uuid.UUID]] = {}
        rows = self.session.execute(
            select(email, Lead.id)
            .where(Lead.workspace_id == self.workspace_id, email.in_(wanted))
            .order_by(Lead.id)
        )
        for address, lead_id in rows:
            found.setdefault(address, []).append(lead_id)
        return found
