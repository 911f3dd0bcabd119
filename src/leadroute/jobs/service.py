"""Background jobs: queueing one in the caller's transaction, reading, cancelling."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, literal, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.dml import ReturningInsert

from leadroute.errors import BadRequest, Conflict, NotFound
from leadroute.ids import new_id
from leadroute.jobs.dialect import database_now, lock_queue
from leadroute.jobs.kinds import JobRegistry
from leadroute.jobs.lifecycle import finish_job
from leadroute.jobs.models import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    BackgroundJob,
    JobStatus,
    background_jobs,
)
from leadroute.jobs.repository import JobFilters, JobOrder, JobRepository, latest_active_id

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

    Jobs of one ``queue_key`` run one at a time, in id order. ``max_attempts`` None lets
    the worker's ``job_max_attempts`` setting apply. A caller that needs only the id calls
    this rather than :func:`enqueue_job`: building the ORM object and the session's
    bookkeeping of it cost 7% of an accepted bulk-assign's instructions
    (``python -m bench.instructions``).
    """
    # A queue's lock is held until the commit: every statement inside it is one more wait
    # for the queue, so the clock comes with the lock instead of in a statement of its own.
    now = database_now(session) if queue_key is None else lock_queue(session, queue_key)
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
        "run_after": now,
        "lease_owner": None,
        "lease_token": None,
        "lease_expires_at": None,
        "cancel_requested": False,
        "created_at": now,
        "updated_at": now,
        "finished_at": None,
    }
    # One Core INSERT: the ORM's unit of work costs more than the statement, and every
    # accepted request comes through here.
    if queue_key is None:
        session.execute(INSERT_JOB, row)
    elif session.execute(INSERT_JOB_AT_QUEUE_END, row).first() is None:
        # Rare: an active job of the queue has a larger id (made by another process in the
        # same millisecond, or on a host whose clock runs ahead). Under the queue's lock,
        # every earlier job of the queue has committed, so its largest id is final.
        row["id"] = _id_after(row["id"], latest_active_id(session, queue_key))
        session.execute(INSERT_JOB, row)
    return row


INSERT_JOB = insert(background_jobs)


def _insert_job_at_queue_end() -> ReturningInsert[tuple[uuid.UUID]]:
    """The job row, inserted only if its id sorts after every active job of its queue.

    A queue runs in id order, so a new job's id must be the largest of its queue's active
    jobs. Checking that inside the INSERT saves the accepting request a statement under the
    queue's lock (``latest_active_id`` is read only when the check fails). Each value is a
    bind parameter typed like its column.
    """
    names = [column.name for column in background_jobs.columns]
    later_active_job = (
        select(background_jobs.c.id)
        .where(
            background_jobs.c.queue_key == bindparam("queue_key"),
            # One bound value per status, not an expanding list: SQLAlchemy re-renders an
            # expanding IN at every execution, about a fifth of this statement's CPU.
            background_jobs.c.status.in_([literal(status) for status in ACTIVE_STATUSES]),
            background_jobs.c.id >= bindparam("id"),
        )
        .exists()
    )
    values = select(*(bindparam(name, type_=background_jobs.c[name].type) for name in names))
    # RETURNING says whether the row went in (psycopg reports no rowcount for this form).
    return (
        insert(background_jobs)
        .from_select(names, values.where(~later_active_job))
        .returning(background_jobs.c.id)
    )


INSERT_JOB_AT_QUEUE_END = _insert_job_at_queue_end()


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
