"""The ``background_jobs`` table: the durable queue and the API's view of a job, in one row."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ForeignKey, Index, String, Table, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base
from leadroute.ids import new_id, utcnow


class JobStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in-progress"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Valid in Instantly's enum; leadroute's engine never sets them.
    PAUSED = "paused"
    DRAINING = "draining"


FINISHED_STATUSES = frozenset({JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED})
# A job in one of these holds its serial queue: later jobs of the same queue_key wait for it.
ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.IN_PROGRESS)


class BackgroundJob(Base):
    """A unit of background work and its progress.

    ``data`` is public (shown by the API); ``state`` is the job kind's private memory (cursors,
    high-water marks). ``lease_*`` say which worker holds the job and until when: a worker
    renews its lease at every chunk, and a job whose lease expired is re-queued by the
    reaper. ``lease_owner`` is kept after the lease ends, naming the last worker that held
    the job. ``max_attempts`` NULL means the worker's ``job_max_attempts`` setting applies.
    The engine takes every timestamp from the database's clock (``jobs.dialect.database_now``).
    """

    __tablename__ = "background_jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    type: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(255), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    queue_key: Mapped[str | None] = mapped_column(String(255), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int | None] = mapped_column(default=None)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(255), default=None)
    lease_token: Mapped[uuid.UUID | None] = mapped_column(default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


# Listing one workspace's jobs, by id or by either timestamp (keyset pages on (column, id)).
Index("ix_background_jobs_workspace_id_id", BackgroundJob.workspace_id, BackgroundJob.id)
Index(
    "ix_background_jobs_workspace_id_created_at_id",
    BackgroundJob.workspace_id,
    BackgroundJob.created_at,
    BackgroundJob.id,
)
Index(
    "ix_background_jobs_workspace_id_updated_at_id",
    BackgroundJob.workspace_id,
    BackgroundJob.updated_at,
    BackgroundJob.id,
)
# Claiming walks pending jobs in id order; the reaper looks for expired leases.
Index("ix_background_jobs_status_id", BackgroundJob.status, BackgroundJob.id)
Index(
    "ix_background_jobs_status_lease_expires_at",
    BackgroundJob.status,
    BackgroundJob.lease_expires_at,
)
# "Is an earlier job of this queue still active?" without reading the queue's finished history.
Index(
    "ix_background_jobs_queue_key_status_id",
    BackgroundJob.queue_key,
    BackgroundJob.status,
    BackgroundJob.id,
)


class JobQueue(Base):
    """A serial queue's head: the id of the last job queued in it.

    Queueing a job moves the head forward to the job's id with ``INSERT ... ON CONFLICT DO
    UPDATE`` (on PostgreSQL in the job row's own statement), which locks the head's row
    until the transaction commits: the next request to queue in the same queue waits, then
    sees the committed head. So a queue's ids grow in commit order, and a worker never sees
    a job of a queue before an earlier one (``jobs.service.insert_job``).
    """

    __tablename__ = "job_queues"

    queue_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_job_id: Mapped[uuid.UUID] = mapped_column()


# The table behind ``BackgroundJob``, for Core statements on the request path: a select of
# the ORM entity's columns goes through the ORM's execution path, which costs more.
background_jobs = cast(Table, BackgroundJob.__table__)
job_queues = cast(Table, JobQueue.__table__)
