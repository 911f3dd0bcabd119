"""The ``move-leads`` job kind: move (or copy) selected leads into a campaign or a list.

Chunked like assignment: each chunk takes the next leads in id order up to the high-water
mark, skips duplicates when asked, and moves the rest with one UPDATE (or copies them with
one multi-row INSERT), committing the cursor with it.
"""

import uuid
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from leadroute.assignment import sql
from leadroute.assignment.walk import LeadWalk
from leadroute.ids import new_id, utcnow
from leadroute.jobs.kinds import ChunkOutcome
from leadroute.jobs.models import BackgroundJob
from leadroute.leads.models import Lead, leads
from leadroute.selection import ResolvedSelection

MOVE_LEADS = "move-leads"

# Columns a copy does not take from its original.
NOT_COPIED = frozenset({"id", "campaign", "list_id", "timestamp_created", "timestamp_updated"})


class MoveLeadsKind:
    type = MOVE_LEADS

    def __init__(self, chunk_size: int) -> None:
        self.chunk_size = chunk_size

    def run_chunk(self, session: Session, job: BackgroundJob) -> ChunkOutcome:
        state: dict[str, Any] = dict(job.state)
        data: dict[str, Any] = dict(job.data)
        walk = LeadWalk.from_state(
            state, ResolvedSelection.model_validate(state["selection"]).where()
        )
        walk.count_once(session, state, data)
        if walk.exhausted:
            return _finished(data, state)
        remaining = walk.next_chunk_size(self.chunk_size)
        condition = walk.remaining_leads()
        bounds = sql.number_chunk(session, condition, remaining)
        if bounds.size == 0 or bounds.last_lead_id is None or bounds.first_lead_id is None:
            return _finished(data, state)

        in_chunk = and_(condition, leads.c.id <= bounds.last_lead_id)
        duplicate = _duplicate_predicate(job.workspace_id, state)
        skipped = 0
        if duplicate is not None:
            skipped = session.scalar(select(func.count()).where(in_chunk, duplicate)) or 0
            in_chunk = and_(in_chunk, ~duplicate)

        now = utcnow()
        new_owner = _uuid(state.get("assigned_to"))
        if state.get("copy_leads"):
            _copy(session, in_chunk, state, new_owner, now)
        else:
            if new_owner is not None:
                _record_owner_changes(session, job, in_chunk, new_owner, bounds, now)
            _move(session, in_chunk, state, new_owner, now)

        data["success_count"] = data.get("success_count", 0) + bounds.size - skipped
        data["skipped_count"] = data.get("skipped_count", 0) + skipped
        walk.advance(state, bounds.size, bounds.last_lead_id)
        if bounds.size < remaining or walk.exhausted:
            return _finished(data, state)
        return ChunkOutcome(data=data, state=state, progress=walk.progress(data), finished=False)


def _destination(state: dict[str, Any]) -> dict[str, uuid.UUID | None]:
    return {
        "campaign": _uuid(state.get("to_campaign_id")),
        "list_id": _uuid(state.get("to_list_id")),
    }


def _duplicate_predicate(
    workspace_id: uuid.UUID, state: dict[str, Any]
) -> ColumnElement[bool] | None:
    """A lead whose email another lead already has in the destination (or in any campaign)."""
    other = aliased(Lead, name="other")
    same_email = and_(
        other.workspace_id == workspace_id,
        other.id != leads.c.id,
        func.lower(other.email) == func.lower(leads.c.email),
    )
    clauses = []
    if state.get("check_duplicates"):
        destination = _destination(state)
        if destination["campaign"] is not None:
            clauses.append(exists().where(same_email, other.campaign == destination["campaign"]))
        else:
            clauses.append(exists().where(same_email, other.list_id == destination["list_id"]))
    if state.get("check_duplicates_in_campaigns"):
        clauses.append(exists().where(same_email, other.campaign.is_not(None)))
    if not clauses:
        return None
    return and_(leads.c.email.is_not(None), or_(*clauses))


def _changes(state: dict[str, Any], new_owner: uuid.UUID | None, now: Any) -> dict[str, Any]:
    destination = _destination(state)
    values: dict[str, Any] = {
        "campaign": destination["campaign"],
        "list_id": destination["list_id"],
        "timestamp_updated": now,
    }
    if new_owner is not None:
        values["assigned_to"] = new_owner
    if state.get("reset_interest_status"):
        values["lt_interest_status"] = None
    return values


def _move(
    session: Session,
    in_chunk: ColumnElement[bool],
    state: dict[str, Any],
    new_owner: uuid.UUID | None,
    now: Any,
) -> None:
    session.execute(update(leads).where(in_chunk).values(**_changes(state, new_owner, now)))


def _copy(
    session: Session,
    in_chunk: ColumnElement[bool],
    state: dict[str, Any],
    new_owner: uuid.UUID | None,
    now: Any,
) -> None:
    """Copies get new ids, so they are written with one multi-row INSERT of the chunk."""
    columns = [column for column in leads.c if column.name not in NOT_COPIED]
    originals = session.execute(select(*columns).where(in_chunk).order_by(leads.c.id)).mappings()
    changes = _changes(state, new_owner, now)
    rows = [{**row, **changes, "id": new_id(), "timestamp_created": now} for row in originals]
    if rows:
        session.execute(insert(leads), rows)


def _record_owner_changes(
    session: Session,
    job: BackgroundJob,
    in_chunk: ColumnElement[bool],
    new_owner: uuid.UUID,
    bounds: sql.ChunkBounds,
    now: Any,
) -> None:
    targets = (
        select(
            leads.c.id.label("lead_id"),
            leads.c.assigned_to.label("previous"),
            literal(new_owner, leads.c.assigned_to.type).label("target"),
        )
        .where(in_chunk)
        .subquery("targets")
    )
    assert bounds.first_lead_id is not None
    assert bounds.last_lead_id is not None
    sql.record_history(
        session,
        targets,
        workspace_id=job.workspace_id,
        job_id=job.id,
        first_lead_id=bounds.first_lead_id,
        last_lead_id=bounds.last_lead_id,
        now=now,
    )


def _finished(data: dict[str, Any], state: dict[str, Any]) -> ChunkOutcome:
    data["total_to_process"] = data.get("success_count", 0) + data.get("skipped_count", 0)
    return ChunkOutcome(data=data, state=state, progress=100, finished=True)


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
