"""The transitions of a job row, each inside the caller's transaction.

pending --claim--> in-progress --chunk...--> success
in-progress --failed attempt (chunk raised, or lease expired)--> pending (after a backoff)
                                                              or failed (after the last attempt)
in-progress --release (worker shutting down)--> pending, no attempt counted
pending --cancel--> cancelled;  in-progress --cancel requested, next chunk--> cancelled

``now`` is :func:`leadroute.jobs.dialect.database_now` of the same transaction.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import flag_modified

from leadroute.jobs.dialect import claim_target
from leadroute.jobs.kinds import ChunkOutcome, FinishListener
from leadroute.jobs.models import ACTIVE_STATUSES, BackgroundJob, JobStatus
from leadroute.settings import Settings

RETRY_BASE_DELAY = timedelta(seconds=2)
RETRY_MAX_DELAY = timedelta(minutes=5)
# Expired leases re-queued per reaper transaction; the rest wait for the next pass.
REAP_BATCH_SIZE = 100
ERROR_TEXT_LIMIT = 500
LEASE_EXPIRED_ERROR = (
    "The worker running this job stopped renewing its lease (it crashed, was killed or hung)"
)

# The ORM update statements below load the updated row from RETURNING; no in-session objects
# need synchronising, and the returned object must reflect the row just written.
RETURNING_OPTIONS = {"synchronize_session": False, "populate_existing": True}


@dataclass(frozen=True, slots=True)
class Lease:
    """A worker's hold on one job; ``token`` is new at every claim."""

    job_id: uuid.UUID
    token: uuid.UUID
    type: str


def retry_delay(
    attempts: int, *, base: timedelta = RETRY_BASE_DELAY, maximum: timedelta = RETRY_MAX_DELAY
) -> timedelta:
    """``base`` (2 s) after the first failed attempt, doubling with each one, at most
    ``maximum`` (5 minutes)."""
    doublings = min(max(attempts - 1, 0), 16)  # bounded: timedelta overflows far below 2**64
    return min(maximum, base * (1 << doublings))


def next_attempt_at(job: BackgroundJob, *, settings: Settings, now: datetime) -> datetime | None:
    """When ``job`` runs again if its current attempt fails; None if that attempt is its last.

    A kind that records its own attempts (``ChunkOutcome.failed_attempt``) can show the same
    time the engine will set.
    """
    attempts = job.attempts + 1
    if attempts >= (job.max_attempts or settings.job_max_attempts):
        return None
    return now + retry_delay(
        attempts,
        base=timedelta(seconds=settings.job_retry_base_seconds),
        maximum=timedelta(seconds=settings.job_retry_max_seconds),
    )


def describe_error(error: BaseException) -> str:
    """The failure as ``data.error`` shows it: type and first line, bounded (no traceback)."""
    message = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
    return text[:ERROR_TEXT_LIMIT]


def claimable_job_ids(types: Iterable[str], now: datetime) -> Select[uuid.UUID]:
    """The first pending, due job of ``types`` whose serial queue has nothing earlier active.

    Candidates are walked in id order, so a queue with a job in progress and a backlog
    behind it would have every job of the backlog probed on every poll (thousands after a
    burst of accepted requests: 30 ms a poll on PostgreSQL with fresh statistics, 150 ms
    with stale ones). The queues with a job in progress, a handful, are read once and
    filter those candidates out before the per-job probe.
    """
    candidate = aliased(BackgroundJob, name="candidate")
    earlier = aliased(BackgroundJob, name="earlier")
    running = aliased(BackgroundJob, name="running")
    busy_queues = select(running.queue_key).where(
        running.status == JobStatus.IN_PROGRESS, running.queue_key.is_not(None)
    )
    earlier_active_job = select(earlier.id).where(
        earlier.queue_key == candidate.queue_key,
        earlier.status.in_(ACTIVE_STATUSES),
        earlier.id < candidate.id,
    )
    return (
        select(candidate.id)
        .where(
            candidate.status == JobStatus.PENDING,
            candidate.run_after <= now,
            candidate.type.in_(list(types)),
            or_(candidate.queue_key.is_(None), candidate.queue_key.not_in(busy_queues)),
            ~earlier_active_job.exists(),
        )
        .order_by(candidate.id)
        .limit(1)
    )


def claim_next_job(
    session: Session, *, types: Sequence[str], owner: str, settings: Settings, now: datetime
) -> BackgroundJob | None:
    """Move the next claimable job to ``in-progress`` under a new lease held by ``owner``."""
    if not types:
        return None
    target = claim_target(session, claimable_job_ids(types, now))
    if target is None:
        return None
    statement = (
        update(BackgroundJob)
        .where(BackgroundJob.id == target, BackgroundJob.status == JobStatus.PENDING)
        .values(
            status=JobStatus.IN_PROGRESS,
            lease_owner=owner,
            lease_token=uuid.uuid4(),
            lease_expires_at=now + timedelta(seconds=settings.job_lease_seconds),
            updated_at=now,
        )
        .returning(BackgroundJob)
    )
    return session.scalars(statement, execution_options=RETURNING_OPTIONS).one_or_none()


def renew_lease(
    session: Session, lease: Lease, *, settings: Settings, now: datetime
) -> BackgroundJob | None:
    """The fence every chunk starts with: extend the lease if this worker still holds it.

    None means the job was taken away (re-queued by the reaper, claimed by another worker):
    the caller must roll back and write nothing. On PostgreSQL the UPDATE also locks the row
    until the chunk commits, so the reaper (which skips locked rows) cannot steal a job in
    the middle of a chunk, and a cancel waits for the chunk to end.
    """
    statement = (
        update(BackgroundJob)
        .where(
            BackgroundJob.id == lease.job_id,
            BackgroundJob.lease_token == lease.token,
            BackgroundJob.status == JobStatus.IN_PROGRESS,
        )
        .values(
            lease_expires_at=now + timedelta(seconds=settings.job_lease_seconds),
            updated_at=now,
        )
        .returning(BackgroundJob)
    )
    return session.scalars(statement, execution_options=RETURNING_OPTIONS).one_or_none()


def held_job(session: Session, lease: Lease) -> BackgroundJob | None:
    """The job if ``lease`` still holds it (a plain read: no lock, no lease renewal)."""
    return session.scalar(
        select(BackgroundJob).where(
            BackgroundJob.id == lease.job_id,
            BackgroundJob.lease_token == lease.token,
            BackgroundJob.status == JobStatus.IN_PROGRESS,
        )
    )


def release_job(session: Session, lease: Lease, *, now: datetime) -> bool:
    """Hand a held job back to the queue at once, without counting an attempt."""
    statement = (
        update(BackgroundJob)
        .where(
            BackgroundJob.id == lease.job_id,
            BackgroundJob.lease_token == lease.token,
            BackgroundJob.status == JobStatus.IN_PROGRESS,
        )
        .values(
            status=JobStatus.PENDING,
            lease_token=None,
            lease_expires_at=None,
            updated_at=now,
        )
        .returning(BackgroundJob.id)
    )
    return session.execute(statement, execution_options=RETURNING_OPTIONS).first() is not None


def apply_outcome(
    session: Session,
    job: BackgroundJob,
    outcome: ChunkOutcome,
    *,
    settings: Settings,
    listeners: Iterable[FinishListener],
    now: datetime,
) -> None:
    job.data = outcome.data
    job.state = outcome.state
    # A kind may have changed the job's own dicts in place: then the values set above compare
    # equal to the loaded ones, and without this flag the UPDATE would leave them out.
    flag_modified(job, "data")
    flag_modified(job, "state")
    if outcome.failed_attempt is not None:
        record_failed_attempt(
            session, job, outcome.failed_attempt, settings=settings, listeners=listeners, now=now
        )
        return
    job.progress = max(0, min(100, outcome.progress))
    job.updated_at = now
    if outcome.finished:
        finish_job(session, job, JobStatus.SUCCESS, listeners=listeners, now=now)


def finish_job(
    session: Session,
    job: BackgroundJob,
    status: JobStatus,
    *,
    listeners: Iterable[FinishListener],
    now: datetime,
) -> None:
    """Move ``job`` to a final status and tell the finish listeners, in this transaction."""
    job.status = status
    job.finished_at = now
    job.updated_at = now
    job.lease_token = None
    job.lease_expires_at = None
    if status == JobStatus.SUCCESS:
        # A finished job is complete whatever its total was (0 of 0 is 100%), and has no error.
        job.progress = 100
        job.data = {key: value for key, value in job.data.items() if key != "error"}
    session.flush()
    for listener in listeners:
        listener(session, job)


def record_failed_attempt(
    session: Session,
    job: BackgroundJob,
    error_text: str,
    *,
    settings: Settings,
    listeners: Iterable[FinishListener],
    now: datetime,
) -> None:
    """Count a failed attempt: back to ``pending`` after a backoff, or ``failed`` at the last.

    ``data`` keeps what earlier chunks committed, plus ``error`` (the latest failure).
    """
    retry_at = next_attempt_at(job, settings=settings, now=now)
    job.attempts += 1
    job.data = {**job.data, "error": error_text}
    if retry_at is None:
        finish_job(session, job, JobStatus.FAILED, listeners=listeners, now=now)
        return
    job.status = JobStatus.PENDING
    job.run_after = retry_at
    job.updated_at = now
    job.lease_token = None
    job.lease_expires_at = None
    session.flush()


def expired_jobs(session: Session, *, now: datetime) -> Sequence[BackgroundJob]:
    """In-progress jobs whose lease has run out, locked for the reaper.

    SKIP LOCKED passes over a job whose worker is inside a chunk right now (its fencing UPDATE
    holds the row): that worker is alive. SQLite ignores the clause; its write transactions
    exclude each other already.
    """
    statement = (
        select(BackgroundJob)
        .where(
            BackgroundJob.status == JobStatus.IN_PROGRESS,
            BackgroundJob.lease_expires_at < now,
        )
        .order_by(BackgroundJob.id)
        .limit(REAP_BATCH_SIZE)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(statement).all()


def reap_expired_job(
    session: Session,
    job: BackgroundJob,
    *,
    settings: Settings,
    listeners: Iterable[FinishListener],
    now: datetime,
) -> None:
    """A job whose worker vanished: cancelled if that was asked, else a failed attempt."""
    if job.cancel_requested:
        finish_job(session, job, JobStatus.CANCELLED, listeners=listeners, now=now)
    else:
        record_failed_attempt(
            session, job, LEASE_EXPIRED_ERROR, settings=settings, listeners=listeners, now=now
        )
