"""The set-based statements of one assignment chunk.

Each function is one SQL statement over the chunk's leads (or, on SQLite, a few over a
temporary table); none loops over rows in Python. The chunk is the next ``size`` selected
leads after ``cursor`` in id order, never past the job's high-water mark.

:func:`assign_chunk` does a whole chunk while reading the selection once (see
docs/benchmarks.md for why that matters): on PostgreSQL one statement with data-modifying
CTEs (number the chunk, ``UPDATE ... RETURNING`` the changed leads with their previous
owners, ``INSERT`` the chunk's history row from that); on SQLite, which has neither
data-modifying CTEs nor old values in ``RETURNING``, the numbered chunk is written once to a
per-connection temporary table that the history row and the ``UPDATE`` then read.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    String,
    Subquery,
    Table,
    Uuid,
    and_,
    bindparam,
    delete,
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
from sqlalchemy.schema import CreateTable

from leadroute.assignment.models import AssignmentBatch, AssignmentRotation
from leadroute.ids import new_id
from leadroute.leads.models import leads
from leadroute.selection import ResolvedSelection

rotations = cast(Table, AssignmentRotation.__table__)
batches = cast(Table, AssignmentBatch.__table__)
# A job's rotation rows, written by its first chunk (a Core executemany, built once).
INSERT_ROTATION = insert(rotations)
# The key of a job's state that holds its plan's rotations until its first chunk writes them.
PENDING_ROTATIONS = "rotations"


def write_pending_rotations(session: Session, job_id: uuid.UUID, state: dict[str, Any]) -> None:
    """Move the rotations an accepted job carries in ``state`` into ``assignment_rotations``.

    Called at the start of every chunk; only the first finds any. It runs in the chunk's
    transaction, which also commits the state without them, so the rows are written exactly
    once whatever fails. A job accepted before the rotations moved here has none in its state:
    its rows were written with it.
    """
    pending: list[list[str]] | None = state.pop(PENDING_ROTATIONS, None)
    rows = [
        {"job_id": job_id, "phase": phase, "slot": slot, "user_id": uuid.UUID(user)}
        for phase, rotation in enumerate(pending or ())
        for slot, user in enumerate(rotation)
    ]
    if rows:
        session.execute(INSERT_ROTATION, rows)


@dataclass(frozen=True)
class ChunkBounds:
    size: int
    first_lead_id: uuid.UUID | None
    last_lead_id: uuid.UUID | None


@dataclass(frozen=True)
class ChunkResult:
    """What :func:`assign_chunk` did: leads in the chunk, how many changed owner, its ids."""

    size: int
    changed: int
    first_lead_id: uuid.UUID | None
    last_lead_id: uuid.UUID | None


# SQLite's per-connection scratch table for one chunk (see ``assign_chunk``). TEMP tables
# live in the connection's own temporary database: never seen by another connection, and
# with ``temp_store=MEMORY`` (leadroute.db.engine) never written to disk. ``row_id`` is the
# lead's rowid (and the scratch table's own), so both sides of the UPDATE are rowid seeks.
CHUNK_TABLE = "leadroute_assign_chunk"
chunk_table = Table(
    CHUNK_TABLE,
    MetaData(),
    Column("row_id", Integer, primary_key=True, autoincrement=False),
    Column("lead_id", Uuid, nullable=False),
    Column("previous", Uuid),
    Column("target", Uuid),
    prefixes=["TEMPORARY"],
)
SQLITE_ROWID: ColumnElement[int] = literal_column(f"{leads.name}.rowid", Integer)
HISTORY_COLUMNS = [
    "id",
    "workspace_id",
    "job_id",
    "first_lead_id",
    "last_lead_id",
    "change_count",
    "changes",
    "created_at",
]


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


HIGH_WATER_MARK = (
    select(leads.c.id)
    .where(leads.c.workspace_id == bindparam("workspace_id"))
    .order_by(leads.c.id.desc())
    .limit(1)
)


def high_water_mark(session: Session, workspace_id: uuid.UUID) -> uuid.UUID | None:
    """The largest lead id of the workspace now: leads created later never take part."""
    return session.scalar(HIGH_WATER_MARK, {"workspace_id": workspace_id})


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


def assign_chunk(
    session: Session,
    condition: ColumnElement[bool],
    *,
    size: int,
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    phase: int,
    offset: int,
    period: int,
    now: datetime,
) -> ChunkResult:
    """Assign the next ``size`` leads matching ``condition`` and record their history.

    Lead ``offset + k`` of the phase (the chunk's ``k``-th lead, 0-based) takes the user of
    slot ``(offset + k) % period`` of the phase's rotation. A lead already owned by its
    target is left as it is. One :class:`AssignmentBatch` row records the previous owner of
    every lead that changed (none when nothing changed).
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    columns: list[Any] = [leads.c.id, leads.c.assigned_to]
    if not postgresql:
        columns.append(SQLITE_ROWID.label("row_id"))
    picked = select(*columns).where(condition).order_by(leads.c.id).limit(size).subquery("picked")
    slot = (func.row_number().over(order_by=picked.c.id) + (offset - 1)) % period
    numbered = select(
        *[column for column in picked.c if column.key not in ("id", "assigned_to")],
        picked.c.id.label("lead_id"),
        picked.c.assigned_to.label("previous"),
        slot.label("slot"),
    ).subquery("numbered")
    targets = (
        select(*[column for column in numbered.c if column.key != "slot"])
        .add_columns(rotations.c.user_id.label("target"))
        .select_from(numbered)
        .join(
            rotations,
            and_(
                rotations.c.job_id == job_id,
                rotations.c.phase == phase,
                rotations.c.slot == numbered.c.slot,
            ),
        )
    )
    if postgresql:
        return _assign_chunk_postgresql(
            session, targets, workspace_id=workspace_id, job_id=job_id, now=now
        )
    return _assign_chunk_sqlite(session, targets, workspace_id=workspace_id, job_id=job_id, now=now)


def _assign_chunk_postgresql(
    session: Session,
    targets_query: Select[Any],
    *,
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    now: datetime,
) -> ChunkResult:
    # One statement. A CTE read twice is computed once; the data-modifying ones run exactly
    # once, on one snapshot, and the history INSERT reads the UPDATE's RETURNING rows.
    targets = targets_query.cte("targets")
    changed = (
        update(leads)
        .where(leads.c.id == targets.c.lead_id, owner_changes(targets))
        .values(assigned_to=targets.c.target, timestamp_updated=now)
        .returning(
            leads.c.id.label("lead_id"),
            targets.c.previous.label("previous"),
            targets.c.target.label("target"),
        )
        .cte("changed")
    )
    # PostgreSQL 15 has no min/max over uuid; ORDER BY ... LIMIT 1 reads the same.
    first = select(targets.c.lead_id).order_by(targets.c.lead_id).limit(1).scalar_subquery()
    last = select(targets.c.lead_id).order_by(targets.c.lead_id.desc()).limit(1).scalar_subquery()
    change = func.jsonb_build_array(changed.c.lead_id, changed.c.previous, changed.c.target)
    recorded = (
        insert(batches)
        .from_select(
            HISTORY_COLUMNS,
            select(
                literal(new_id(), leads.c.id.type),
                literal(workspace_id, leads.c.id.type),
                literal(job_id, leads.c.id.type),
                first,
                last,
                func.count(),
                func.jsonb_agg(change),
                literal(now, batches.c.created_at.type),
            )
            .select_from(changed)
            .having(func.count() > 0),
        )
        .returning(batches.c.change_count)
        .cte("recorded")
    )
    size, changed_count, first_id, last_id = session.execute(
        select(
            select(func.count()).select_from(targets).scalar_subquery(),
            select(func.coalesce(func.sum(recorded.c.change_count), 0)).scalar_subquery(),
            first,
            last,
        )
    ).one()
    return ChunkResult(
        size=int(size), changed=int(changed_count), first_lead_id=first_id, last_lead_id=last_id
    )


def _assign_chunk_sqlite(
    session: Session,
    targets_query: Select[Any],
    *,
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    now: datetime,
) -> ChunkResult:
    # Each lead is found by its rowid, read within this transaction (rowids are stable
    # until a VACUUM, which cannot run inside it): one b-tree descent instead of two.
    # Created on first use by each connection; every chunk asks again, since a chunk run
    # inside a savepoint that is rolled back (a dry run) takes the CREATE back with it.
    session.execute(CreateTable(chunk_table, if_not_exists=True))
    session.execute(delete(chunk_table))
    session.execute(
        insert(chunk_table).from_select(["row_id", "lead_id", "previous", "target"], targets_query)
    )
    size, first, last = session.execute(
        select(func.count(), func.min(chunk_table.c.lead_id), func.max(chunk_table.c.lead_id))
    ).one()
    if not size:
        return ChunkResult(size=0, changed=0, first_lead_id=None, last_lead_id=None)
    record_history(
        session,
        chunk_table.select().subquery("targets"),
        workspace_id=workspace_id,
        job_id=job_id,
        first_lead_id=first,
        last_lead_id=last,
        now=now,
    )
    changing = select(chunk_table.c.row_id).where(owner_changes(chunk_table))
    target = select(chunk_table.c.target).where(chunk_table.c.row_id == SQLITE_ROWID)
    # ``rowid IN (...)`` with a correlated lookup, not ``UPDATE ... FROM``: SQLite has no
    # statistics on the scratch table and would plan FROM as a scan of every lead.
    result = session.execute(
        update(leads)
        .where(SQLITE_ROWID.in_(changing))
        .values(assigned_to=target.scalar_subquery(), timestamp_updated=now)
    )
    return ChunkResult(
        size=int(size),
        changed=int(result.rowcount or 0),  # type: ignore[attr-defined]
        first_lead_id=first,
        last_lead_id=last,
    )


def phase_rotation(session: Session, job_id: uuid.UUID, phase: int) -> list[str]:
    rows = session.execute(
        select(rotations.c.user_id)
        .where(rotations.c.job_id == job_id, rotations.c.phase == phase)
        .order_by(rotations.c.slot)
    ).scalars()
    return [str(user) for user in rows]


def owner_changes(targets: Any) -> ColumnElement[bool]:
    previous: ColumnElement[Any] = targets.c.previous
    return previous.is_distinct_from(targets.c.target)


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
