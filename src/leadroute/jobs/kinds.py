"""What a job kind is, and the registry a worker finds kinds (and finish listeners) in."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from leadroute.db.session import Database
from leadroute.jobs.models import BackgroundJob

FinishListener = Callable[[Session, BackgroundJob], None]


@dataclass
class ChunkOutcome:
    """What one chunk leaves behind: the job's new ``data``, ``state`` and ``progress``.

    ``finished`` ends the job with status ``success``. The key ``error`` of ``data`` belongs
    to the engine (the last failed attempt's message) and is dropped on success.
    """

    data: dict[str, Any]
    state: dict[str, Any]
    progress: int
    finished: bool
    # An error text: the chunk's writes, ``data`` and ``state`` commit, but the engine counts a
    # failed attempt (retry after a backoff, ``failed`` at the last attempt) and ignores
    # ``progress`` and ``finished``. For a kind whose failures must leave a durable record
    # (a webhook delivery's attempt), which raising would roll back.
    failed_attempt: str | None = None


class JobKind(Protocol):
    """One type of job. ``run_chunk`` does one chunk of set-based SQL.

    It is called inside the chunk's write transaction, after the engine has checked that this
    worker still holds the job; the engine then writes the outcome in the same transaction and
    commits, so a chunk's effects and the job's progress are durable together or not at all.
    A chunk that raises is rolled back and retried later, so chunks must be idempotent with
    respect to ``state`` (re-running a chunk from the same state gives the same result).
    """

    type: str

    def run_chunk(self, session: Session, job: BackgroundJob) -> ChunkOutcome: ...


@dataclass(frozen=True)
class JobSnapshot:
    """A job as committed before a chunk: what :meth:`PreparedJobKind.prepare` reads."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    type: str
    data: dict[str, Any]
    state: dict[str, Any]
    attempts: int
    max_attempts: int | None

    @classmethod
    def of(cls, job: BackgroundJob) -> "JobSnapshot":
        return cls(
            id=job.id,
            workspace_id=job.workspace_id,
            type=job.type,
            data=dict(job.data),
            state=dict(job.state),
            attempts=job.attempts,
            max_attempts=job.max_attempts,
        )


@runtime_checkable
class PreparedJobKind(JobKind, Protocol):
    """A kind whose chunk needs slow work that must not run inside a transaction.

    A chunk's transaction holds the job's row lock (PostgreSQL) or the database's only write
    lock (SQLite), so a network call inside it would stall every writer. The engine calls
    ``prepare`` first, outside any transaction, while the worker holds the job's lease; it may
    read through ``database`` (short read sessions, never held across the slow call). Its
    result is passed to ``run_chunk``, which records it inside the chunk's transaction.

    ``prepare`` is skipped when the chunk will not run (the lease was lost or a cancel was
    requested). If the lease is lost after ``prepare``, the result is dropped and the work is
    done again by the job's next holder: prepared work happens at least once, so it must be
    safe to repeat. It should finish well within ``job_lease_seconds``. If it raises, the
    attempt fails as if ``run_chunk`` had raised.
    """

    def prepare(self, job: JobSnapshot, database: Database) -> dict[str, Any]: ...

    def run_chunk(
        self, session: Session, job: BackgroundJob, prepared: dict[str, Any] | None = None
    ) -> ChunkOutcome: ...


class JobRegistry:
    """The job kinds a worker can run, and who to tell when a job finishes."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind] = {}
        self._finish_listeners: list[FinishListener] = []

    def register(self, kind: JobKind) -> None:
        if kind.type in self._kinds:
            raise ValueError(f"job kind {kind.type!r} is already registered")
        self._kinds[kind.type] = kind

    def get(self, type: str) -> JobKind:
        try:
            return self._kinds[type]
        except KeyError:
            raise LookupError(f"no job kind {type!r} is registered") from None

    def types(self) -> list[str]:
        """The types this registry runs: a worker claims only jobs it knows how to run."""
        return sorted(self._kinds)

    def add_finish_listener(self, listener: FinishListener) -> None:
        """``listener(session, job)`` runs in the transaction that moves a job to
        ``success``, ``failed`` or ``cancelled``; if it raises, that transaction rolls back."""
        self._finish_listeners.append(listener)

    @property
    def finish_listeners(self) -> tuple[FinishListener, ...]:
        return tuple(self._finish_listeners)
