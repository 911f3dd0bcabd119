"""The set-based statements of one assignment chunk.

Each function is one SQL statement over the chunk's leads; none loops over rows in Python.
The chunk is the next ``size`` selected leads after ``cursor`` in id order, never past
the job's high-water mark.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    Subquery,
    Table,
    Uuid,
    and_,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session

from leadroute.assignment.models import AssignmentBatch, AssignmentRotation
from leadroute.ids import new_id
from leadroute.leads.models import Lead
from leadroute.selection import ResolvedSelection

leads = cast(Table, Lead.__table__)
rotations = cast(Table, AssignmentRotation.__table__)
batches = cast(Table, AssignmentBatch.__table__)


@dataclass(frozen=True)
class ChunkBounds:
    size: int
    first_lead_id: uuid.UUID | None
    last_lead_id: uuid.UUID | None


def selected_leads(resolved: ResolvedSelection, *, only_unassigned: bool) -> ColumnElement[bool]:
    """The job's selection: the request's fields, and no owner when ``only_unassigned``."""
    condition = resolved.where()
    if only_unassigned:
        condition = and_(condition, leads.c.assigned_to.is_(None))
    return condition


def owner_counts(
    session: Session, condition: ColumnElement[bool], users: list[uuid.UUID], limit: int | None
) -> dict[str, int]:
    """How many leads matching ``condition`` (the first ``limit`` in id order) each user owns."""
    matching = select(leads.c.id, leads.c.assigned_to).where(condition)
    if limit is not None:
        matching = matching.order_by(leads.c.id).limit(limit)
    part = matching.subquery()
    rows = session.execute(
        select(part.c.assigned_to, func.count())
        .where(part.c.assigned_to.in_(users))
        .group_by(part.c.assigned_to)
    ).all()
    return {str(owner): count for owner, count in rows}


def taking_part(
    selection: ColumnElement[bool],
    *,
    high_water_mark: uuid.UUID,
    cursor: uuid.UUID | None,
) -> ColumnElement[bool]:
    """Selected leads that existed at acceptance and come after the cursor."""
    condition = and_(selection, leads.c.id <= high_water_mark)
    if cursor is not None:
        condition = and_(condition, leads.c.id > cursor)
    return condition


def count_taking_part(session: Session, condition: ColumnElement[bool], limit: int | None) -> int:
    ids = select(leads.c.id).where(condition)
    if limit is not None:
        ids = ids.order_by(leads.c.id).limit(limit)
    return session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def number_chunk(session: Session, condition: ColumnElement[bool], size: int) -> ChunkBounds:
    """How many leads the next chunk holds and the id of its last lead."""
    ids = select(leads.c.id).where(condition).order_by(leads.c.id).limit(size).subquery()
    count, first_id, last_id = session.execute(
        select(func.count(), uuid_min(session, ids.c.id), uuid_max(session, ids.c.id))
    ).one()
    return ChunkBounds(size=count, first_lead_id=first_id, last_lead_id=last_id)


def high_water_mark(session: Session, workspace_id: uuid.UUID) -> uuid.UUID | None:
    """The largest lead id of the workspace now: leads created later never take part."""
    return session.scalar(
        select(leads.c.id)
        .where(leads.c.workspace_id == workspace_id)
        .order_by(leads.c.id.desc())
        .limit(1)
    )


def uuid_min(session: Session, column: ColumnElement[uuid.UUID]) -> ColumnElement[uuid.UUID]:
    return _uuid_aggregate(session, func.min, column)


def uuid_max(session: Session, column: ColumnElement[uuid.UUID]) -> ColumnElement[uuid.UUID]:
    return _uuid_aggregate(session, func.max, column)


def _uuid_aggregate(
    session: Session, aggregate: Any, column: ColumnElement[uuid.UUID]
) -> ColumnElement[uuid.UUID]:
    # PostgreSQL has no min/max over uuid; its text form sorts the same way (lower-case hex).
    if session.get_bind().dialect.name == "postgresql":
        return cast_(aggregate(cast_(column, String)), Uuid)
    return aggregate(column)  # type: ignore[no-any-return]


def chunk_targets(
    condition: ColumnElement[bool],
    *,
    last_lead_id: uuid.UUID,
    job_id: uuid.UUID,
    phase: int,
    offset: int,
    period: int,
) -> Subquery:
    """Each lead of the chunk with its current owner and its target user.

    The chunk's first lead is number ``offset`` of the phase; lead ``offset + row_number - 1``
    takes the user of slot ``(offset + row_number - 1) % period`` of the phase's rotation.
    """
    numbered = (
        select(
            leads.c.id.label("lead_id"),
            leads.c.assigned_to.label("previous"),
            ((func.row_number().over(order_by=leads.c.id) + (offset - 1)) % period).label("slot"),
        )
        .where(condition, leads.c.id <= last_lead_id)
        .subquery("numbered")
    )
    return (
        select(numbered.c.lead_id, numbered.c.previous, rotations.c.user_id.label("target"))
        .select_from(numbered)
        .join(
            rotations,
            and_(
                rotations.c.job_id == job_id,
                rotations.c.phase == phase,
                rotations.c.slot == numbered.c.slot,
            ),
        )
        .subquery("targets")
    )


def phase_rotation(session: Session, job_id: uuid.UUID, phase: int) -> list[str]:
    rows = session.execute(
        select(rotations.c.user_id)
        .where(rotations.c.job_id == job_id, rotations.c.phase == phase)
        .order_by(rotations.c.slot)
    ).scalars()
    return [str(user) for user in rows]


def owner_changes(targets: Subquery) -> ColumnElement[bool]:
    return targets.c.previous.is_distinct_from(targets.c.target)


def record_history(
    session: Session,
    targets: Subquery,
    *,
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    first_lead_id: uuid.UUID,
    last_lead_id: uuid.UUID,
    now: datetime,
) -> None:
    """One compact history row for the chunk: the previous owner of every lead it changes."""
    change = json_triple(session, targets.c.lead_id, targets.c.previous, targets.c.target)
    aggregated = (
        select(
            literal(new_id(), leads.c.id.type).label("id"),
            literal(workspace_id, leads.c.id.type).label("workspace_id"),
            literal(job_id, leads.c.id.type).label("job_id"),
            literal(first_lead_id, leads.c.id.type).label("first_lead_id"),
            literal(last_lead_id, leads.c.id.type).label("last_lead_id"),
            func.count().label("change_count"),
            json_array_agg(session, change).label("changes"),
            literal(now, batches.c.created_at.type).label("created_at"),
        )
        .where(owner_changes(targets))
        .having(func.count() > 0)
    )
    session.execute(
        insert(batches).from_select(
            [
                "id",
                "workspace_id",
                "job_id",
                "first_lead_id",
                "last_lead_id",
                "change_count",
                "changes",
                "created_at",
            ],
            aggregated,
        )
    )


def apply_assignment(session: Session, targets: Subquery, *, now: datetime) -> int:
    """Write the new owners; a lead already owned by its target is left as it is."""
    result = session.execute(
        update(leads)
        .where(leads.c.id == targets.c.lead_id, owner_changes(targets))
        .values(assigned_to=targets.c.target, timestamp_updated=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def json_triple(session: Session, *values: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_build_array(*values)
    return func.json_array(*values)


def json_array_agg(session: Session, value: ColumnElement[Any]) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_agg(value)
    return func.json_group_array(value)


def expand_changes(session: Session, batch_id: uuid.UUID) -> Subquery:
    """The ``[lead_id, previous, new]`` triples of one history batch, as rows."""
    if session.get_bind().dialect.name == "postgresql":
        elements = func.jsonb_array_elements(batches.c.changes).table_valued("value")

        def item(index: int) -> ColumnElement[Any]:
            return cast_(elements.c.value.op("->>")(literal_column(str(index))), Uuid)

    else:
        elements = func.json_each(batches.c.changes).table_valued("value")

        def item(index: int) -> ColumnElement[Any]:
            extracted = func.json_extract(elements.c.value, literal_column(f"'$[{index}]'"))
            return type_coerce(extracted, Uuid)

    return (
        select(
            item(0).label("lead_id"),
            item(1).label("previous"),
            item(2).label("target"),
        )
        .select_from(batches)
        .join(elements, true())
        .where(batches.c.id == batch_id)
        .subquery("changes")
    )
