"""Background jobs: queueing one in the caller's transaction, reading, cancelling."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.dml import ReturningInsert

from leadroute.errors import BadRequest, Conflict, NotFound
from leadroute.ids import new_id, utcnow
from leadroute.jobs.dialect import database_now, is_postgresql
from leadroute.jobs.kinds import JobRegistry
from leadroute.jobs.lifecycle import finish_job
from leadroute.jobs.models import (
    FINISHED_STATUSES,
    BackgroundJob,
    JobStatus,
    background_jobs,
    job_queues,
)
from leadroute.jobs.repository import JobFilters, JobOrder, JobRepository

# Statuses in which a worker may be inside a chunk: a cancel is a request it acts on.
RUNNING_STATUSES = frozenset({JobStatus.IN_PROGRESS, JobStatus.DRAINING})


def enqueue_job(session: Session, **fields: Any) -> BackgroundJob:
    """Queue a job in the caller's transaction (:func:`insert_job` takes the same ``fields``)
    and answer it as a persistent object: a caller that changes it gets an UPDATE, as with
    a flushed one."""
    job = BackgroundJob(**insert_job(session, **fields))
    make_transient_to_detached(job)
    session.add(job)
    return job


def insert_job(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID | None,
    type: str,
    entity_type: str,
    entity_id: str | None,
    data: dict[str, Any],
    state: dict[str, Any],
    queue_key: str | None = None,
    max_attempts: int | None = None,
) -> dict[str, Any]:
    """Queue a job in the caller's transaction: it exists if and only if that commits.
    Answers the values of its row.

    Jobs of one ``queue_key`` run one at a time, in id order: the queue's head
    (:class:`JobQueue`) moves to the new id in the job row's own statement on PostgreSQL,
    in the statement before it on SQLite, whose write transactions run one at a time. On
    PostgreSQL that makes the job one statement, which a caller with nothing else to write
    may run without a transaction (``leadroute.db.session.write_in_one_statement``).

    ``max_attempts`` None lets the worker's ``job_max_attempts`` setting apply. A caller
    that needs only the id calls this rather than :func:`enqueue_job`: building the ORM
    object and the session's bookkeeping of it cost 7% of an accepted bulk-assign's
    instructions (``python -m bench.instructions``).
    """
    row: dict[str, Any] = {
        "id": new_id(),
        "workspace_id": workspace_id,
        "user_id": user_id,
        "type": type,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "data": data,
        "state": state,
        "progress": 0,
        "status": JobStatus.PENDING,
        "queue_key": queue_key,
        "attempts": 0,
        "max_attempts": max_attempts,
        "lease_owner": None,
        "lease_token": None,
        "lease_expires_at": None,
        "cancel_requested": False,
        "finished_at": None,
    }
    if is_postgresql(session):
        # One statement: the id comes back from the queue's head, the timestamps are now().
        statement = INSERT_JOB_POSTGRESQL if queue_key is None else INSERT_QUEUED_JOB_POSTGRESQL
        inserted = session.execute(statement, row).one()
        row["id"] = inserted.id
        row.update(dict.fromkeys(TIMESTAMP_COLUMNS, inserted.created_at))
    else:
        # A retry (the head at or past the new id: a thread that made its id first and
        # reached the write lock second, a clock ahead) reads the head under the write lock
        # its first attempt took, so it never repeats.
        if queue_key is not None:
            while session.execute(MOVE_QUEUE_HEAD_SQLITE, row).first() is None:
                row["id"] = _id_after(row["id"], _queue_head(session, queue_key))
        row.update(dict.fromkeys(TIMESTAMP_COLUMNS, utcnow()))
        session.execute(INSERT_JOB, row)
    return row


# The columns a new job takes from the clock (the database's on PostgreSQL).
TIMESTAMP_COLUMNS = ("run_after", "created_at", "updated_at")
INSERT_JOB = insert(background_jobs)
QUEUE_HEAD_VALUES = {
    "queue_key": bindparam("queue_key", type_=job_queues.c.queue_key.type),
    "last_job_id": bindparam("id", type_=job_queues.c.last_job_id.type),
}

# The id after the head, as ``_id_after`` makes it: the head's low 64 bits plus one (a
# signed bigint there, as the variant bits set the top bit: it cannot overflow).
SUCCESSOR_OF_HEAD = (
    "encode(substring(uuid_send(job_queues.last_job_id) from 1 for 8) || int8send(('x' || "
    "encode(substring(uuid_send(job_queues.last_job_id) from 9 for 8), 'hex'))::bit(64)"
    "::bigint + 1), 'hex')::uuid"
)


def _move_queue_head_postgresql() -> Any:
    """The queue's head moved to the new job's id, or to the id after the head when the
    new id does not sort after it; ``RETURNING`` the id the job takes.

    The new id sorts first when requests race: the threads of a process make their ids
    and then reach the head's row lock in any order (in a test with 12 threads queueing on
    one queue, more often than not). Taking the successor in the statement spares each of
    those a retry. The head's row stays locked until the transaction ends, and PostgreSQL
    updates its latest committed version whatever the statement's snapshot.
    """
    proposed = postgresql.insert(job_queues).values(**QUEUE_HEAD_VALUES)
    moved = case(
        (job_queues.c.last_job_id < proposed.excluded.last_job_id, proposed.excluded.last_job_id),
        else_=literal_column(SUCCESSOR_OF_HEAD, type_=job_queues.c.last_job_id.type),
    )
    return proposed.on_conflict_do_update(
        index_elements=[job_queues.c.queue_key], set_={"last_job_id": moved}
    ).returning(job_queues.c.last_job_id)


def _move_queue_head_sqlite() -> Any:
    """The queue's head moved to the new job's id, only forward: no row when the head is
    already at or past that id."""
    proposed = sqlite.insert(job_queues).values(**QUEUE_HEAD_VALUES)
    return proposed.on_conflict_do_update(
        index_elements=[job_queues.c.queue_key],
        set_={"last_job_id": proposed.excluded.last_job_id},
        where=job_queues.c.last_job_id < proposed.excluded.last_job_id,
    ).returning(job_queues.c.last_job_id)


def _insert_job_postgresql(*, queued: bool) -> ReturningInsert[tuple[uuid.UUID, datetime]]:
    """The job row with the server's ``now()``; queued, with the id its queue's head moved
    to (in a CTE of the same statement). Each value is a bind parameter typed like its
    column, built once: constructing a statement per call costs more than running it."""
    names = [column.name for column in background_jobs.columns]
    head = _move_queue_head_postgresql().cte("queue_head") if queued else None

    def value(name: str) -> Any:
        if name in TIMESTAMP_COLUMNS:
            return func.now()
        if head is not None and name == "id":
            return head.c.last_job_id
        return bindparam(name, type_=background_jobs.c[name].type)

    values = select(*(value(name) for name in names))
    return (
        insert(background_jobs)
        .from_select(names, values)
        .returning(background_jobs.c.id, background_jobs.c.created_at)
    )


INSERT_JOB_POSTGRESQL = _insert_job_postgresql(queued=False)
INSERT_QUEUED_JOB_POSTGRESQL = _insert_job_postgresql(queued=True)
MOVE_QUEUE_HEAD_SQLITE = _move_queue_head_sqlite()
QUEUE_HEAD = select(job_queues.c.last_job_id).where(job_queues.c.queue_key == bindparam("key"))


def _queue_head(session: Session, queue_key: str) -> uuid.UUID | None:
    return session.scalar(QUEUE_HEAD, {"key": queue_key})


def _id_after(candidate: uuid.UUID, floor: uuid.UUID | None) -> uuid.UUID:
    """``candidate``, or the successor of ``floor`` if ``candidate`` does not sort after it.

    UUIDv7s made by different processes in the same millisecond are not ordered, and a
    queue's order is its id order. The successor keeps ``floor``'s timestamp and version;
    it could reach the variant bits only if the 62 random low bits were all ones.
    """
    if floor is None or candidate > floor:
        return candidate
    return uuid.UUID(int=floor.int + 1)


def get_job(session: Session, workspace_id: uuid.UUID, job_id: uuid.UUID) -> BackgroundJob:
    job = JobRepository(session, workspace_id).get(job_id)
    if job is None:
        raise NotFound(f"Background job {job_id} not found")
    return job


def page_jobs(
    session: Session,
    workspace_id: uuid.UUID,
    filters: JobFilters,
    order: JobOrder,
    *,
    limit: int,
    starting_after: uuid.UUID | None,
) -> tuple[Sequence[BackgroundJob], uuid.UUID | None]:
    jobs = JobRepository(session, workspace_id)
    if order.column is not None and starting_after is not None and jobs.get(starting_after) is None:
        # An id page can start anywhere; a timestamp page starts after that job's timestamp.
        raise BadRequest(f"`starting_after`: no background job {starting_after} in this workspace")
    return jobs.page(filters, order, limit=limit, starting_after=starting_after)


def cancel_job(
    session: Session,
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    registry: JobRegistry | None = None,
) -> BackgroundJob:
    """Cancel a job: a waiting job is cancelled at once and never starts; a running job is
    asked to stop, and its worker cancels it at the start of its next chunk (what earlier
    chunks applied stays applied). A finished job is a Conflict.

    Pass the ``registry`` so its finish listeners hear of a job cancelled here; the API does.
    """
    job = JobRepository(session, workspace_id).get(job_id, for_update=True)
    if job is None:
        raise NotFound(f"Background job {job_id} not found")
    if job.status in FINISHED_STATUSES:
        raise Conflict(f"Background job {job_id} has already finished ({job.status})")
    now = database_now(session)
    if job.status in RUNNING_STATUSES:
        job.cancel_requested = True
        job.updated_at = now
        session.flush()
    else:
        listeners = registry.finish_listeners if registry else ()
        finish_job(session, job, JobStatus.CANCELLED, listeners=listeners, now=now)
    return job
