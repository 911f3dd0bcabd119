"""Leads chosen by a selection: the list endpoint's pages and bulk delete.

Both start from :func:`leadroute.selection.resolve_selection`, so every query here is
already scoped to the caller's workspace and means exactly what bulk-assign and move mean.
"""

import uuid
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import ColumnElement, String, Uuid, and_, delete, select, type_coerce
from sqlalchemy.orm import Session

from leadroute.db.base import UtcDateTime
from leadroute.errors import BadRequest
from leadroute.leads.models import Lead, leads
from leadroute.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, fetch_record_page
from leadroute.schemas import RequestModel, WireModel
from leadroute.selection import (
    MAX_SELECTION_IDS,
    LeadSelection,
    check_campaign,
    check_lead_list,
    distinct_contacts,
    resolve_selection,
)

MAX_BULK_DELETE = 10_000


def _as_the_driver_reads_it(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` with no SQLAlchemy result processing if it is a UUID or a timestamp.

    A page is up to 100 leads with a dozen UUIDs and timestamps each. SQLAlchemy converts
    each such value in Python (on SQLite: text to ``uuid.UUID``, text to ``datetime``, then
    ``replace(tzinfo=UTC)``); ``LeadRead`` validates the page anyway, and pydantic parses the
    driver's own values (SQLite's text, psycopg's ``UUID`` and ``datetime``) in Rust. SQLite
    text is naive UTC, which ``format_timestamp`` writes as UTC. The page key, ``id``, keeps
    its type: it is the next page's cursor.
    """
    if column.key != "id" and isinstance(column.type, Uuid | UtcDateTime):
        return type_coerce(column, String()).label(column.key)
    return column


PAGE_COLUMNS = [_as_the_driver_reads_it(column) for column in leads.c]


class LeadListRequest(LeadSelection):
    """Body of ``POST /api/v2/leads/list``: a selection and a keyset page over lead ids."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    starting_after: uuid.UUID | None = None
    distinct_contacts: bool | None = None


class BulkDeleteLeadsRequest(RequestModel):
    """Body of ``DELETE /api/v2/leads``: ``campaign_id`` or ``list_id`` is required.

    Both given are ANDed, like every selection (a lead in that campaign and that list).
    """

    campaign_id: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    status: Literal[1, 2, 3, -1, -2, -3] | None = None
    ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_SELECTION_IDS)
    limit: int | None = Field(default=None, ge=1, le=MAX_BULK_DELETE)


class DeletedCount(WireModel):
    count: int


def list_leads(
    session: Session, workspace_id: uuid.UUID, body: LeadListRequest
) -> tuple[Sequence[dict[str, Any]], uuid.UUID | None]:
    """One page of the selected leads in id order, and the cursor of the next page.

    ``distinct_contacts: true`` keeps one lead per address (case-insensitive): the lowest id
    among the selected leads with that email. Leads without an email are all kept.
    """
    resolved = resolve_selection(session, workspace_id, body)
    statement = select(*PAGE_COLUMNS).where(resolved.where())
    if body.distinct_contacts:
        statement = statement.where(distinct_contacts(resolved))
    # Plain records, not ORM objects: a page is up to 100 leads of 55 columns.
    return fetch_record_page(
        session, statement, leads.c.id, limit=body.limit, starting_after=body.starting_after
    )


def delete_leads(session: Session, workspace_id: uuid.UUID, body: BulkDeleteLeadsRequest) -> int:
    """Deletes the selected leads, at most ``limit`` of them in id order; returns how many.

    One set-based DELETE. Without ``limit`` every selected lead goes, as Instantly does
    when a campaign's leads are deleted.
    """
    if body.campaign_id is None and body.list_id is None:
        raise BadRequest("body: give `campaign_id` or `list_id`")
    # Checked here to name the wire fields of this endpoint (`campaign_id`, not `campaign`).
    if body.campaign_id is not None:
        check_campaign(session, workspace_id, body.campaign_id, field="campaign_id")
    if body.list_id is not None:
        check_lead_list(session, workspace_id, body.list_id, field="list_id")
    resolved = resolve_selection(
        session,
        workspace_id,
        LeadSelection(campaign=body.campaign_id, list_id=body.list_id, ids=body.ids),
    )
    where = resolved.where()
    if body.status is not None:
        where = and_(where, Lead.status == body.status)
    if body.limit is not None:
        doomed = select(Lead.id).where(where).order_by(Lead.id).limit(body.limit)
        where = Lead.id.in_(doomed)
    result = session.execute(delete(Lead).where(where).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0))
