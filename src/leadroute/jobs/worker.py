"""A worker: claims a job, runs it chunk by chunk (one transaction each), reaps dead leases.

A worker holds at most one job at a time and keeps it from chunk to chunk. Each chunk's
transaction starts with the fencing UPDATE (:func:`lifecycle.renew_lease`), so a worker that
lost its job (its lease expired and the job was re-queued) never writes again. On shutdown
a worker finishes the chunk it is in and releases its job for another worker to take at once.
"""

import logging
import threading
import time
from typing import Any

from leadroute.db.session import Database
from leadroute.jobs import lifecycle
from leadroute.jobs.dialect import database_now
from leadroute.jobs.kinds import JobRegistry, JobSnapshot, PreparedJobKind
from leadroute.jobs.lifecycle import Lease
from leadroute.jobs.models import JobStatus
from leadroute.settings import Settings

logger = logging.getLogger(__name__)

# The reaper runs at least this often, and twice per lease when leases are shorter.
MAX_REAP_INTERVAL_SECONDS = 5.0


class Worker:
    """One worker; use it from one thread. ``name`` is written as ``lease_owner``."""

    def __init__(
        self, database: Database, registry: JobRegistry, settings: Settings, name: str
    ) -> None:
        self.database = database
        self.registry = registry
        self.settings = settings
        self.name = name
        self._lease: Lease | None = None
        self._reap_interval = min(MAX_REAP_INTERVAL_SECONDS, settings.job_lease_seconds / 2)
        self._next_reap_at = 0.0

    @property
    def lease(self) -> Lease | None:
        """The job this worker holds between chunks, if any."""
        return self._lease

    def run_once(self) -> bool:
        """Reap if due, then run one chunk of the held job (claiming one if none is held).

        False when there was nothing to claim.
        """
        self._reap_if_due()
        if self._lease is None:
            self._lease = self._claim()
            if self._lease is None:
                return False
        self._run_chunk(self._lease)
        return True

    def run_forever(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, then release the held job (after the current chunk)."""
        try:
            while not stop.is_set():
                try:
                    worked = self.run_once()
                except Exception:
                    # The database is unreachable or similar: keep the loop alive, try later.
                    logger.exception("worker %s: unexpected error", self.name)
                    worked = False
                if not worked:
                    stop.wait(self.settings.job_poll_interval_seconds)
        finally:
            try:
                self.release()
            except Exception:
                # Its lease expires and the reaper re-queues it: slower, but nothing is lost.
                logger.exception("worker %s: could not release its job", self.name)

    def release(self) -> None:
        """Give the held job back to the queue (status ``pending``, no attempt counted)."""
        lease, self._lease = self._lease, None
        if lease is None:
            return
        with self.database.write_sessions.begin() as session:
            released = lifecycle.release_job(session, lease, now=database_now(session))
        if released:
            logger.info("worker %s: released job %s", self.name, lease.job_id)

    def reap(self) -> int:
        """Re-queue (or fail) in-progress jobs whose lease expired; how many were reaped."""
        self._next_reap_at = time.monotonic() + self._reap_interval
        return reap_expired_leases(self.database, self.registry, self.settings)

    def _reap_if_due(self) -> None:
        if time.monotonic() >= self._next_reap_at:
            self.reap()

    def _claim(self) -> Lease | None:
        with self.database.write_sessions.begin() as session:
            job = lifecycle.claim_next_job(
                session,
                types=self.registry.types(),
                owner=self.name,
                settings=self.settings,
                now=database_now(session),
            )
            if job is None:
                return None
            assert job.lease_token is not None
            logger.info("worker %s: claimed job %s (%s)", self.name, job.id, job.type)
            return Lease(job_id=job.id, token=job.lease_token, type=job.type)

    def _run_chunk(self, lease: Lease) -> None:
        kind = self.registry.get(lease.type)
        listeners = self.registry.finish_listeners
        prepared: dict[str, Any] | None = None
        if isinstance(kind, PreparedJobKind):
            try:
                prepared = self._prepare(kind, lease)
            except Exception as error:
                self._lease = None
                logger.exception("worker %s: preparing job %s failed", self.name, lease.job_id)
                self._record_failure(lease, error)
                return
        with self.database.write_sessions() as session:
            try:
                now = database_now(session)
                job = lifecycle.renew_lease(session, lease, settings=self.settings, now=now)
                if job is None:
                    session.rollback()
                    self._lease = None
                    logger.warning("worker %s: lost job %s; dropping it", self.name, lease.job_id)
                    return
                if job.cancel_requested:
                    lifecycle.finish_job(
                        session, job, JobStatus.CANCELLED, listeners=listeners, now=now
                    )
                else:
                    if isinstance(kind, PreparedJobKind):
                        outcome = kind.run_chunk(session, job, prepared)
                    else:
                        outcome = kind.run_chunk(session, job)
                    lifecycle.apply_outcome(
                        session, job, outcome, settings=self.settings, listeners=listeners, now=now
                    )
                session.commit()
            except Exception as error:
                session.rollback()
                self._lease = None
                logger.exception("worker %s: chunk of job %s failed", self.name, lease.job_id)
                self._record_failure(lease, error)
                return
        if job.status != JobStatus.IN_PROGRESS:
            self._lease = None

    def _prepare(self, kind: PreparedJobKind, lease: Lease) -> dict[str, Any] | None:
        """Run ``kind.prepare`` outside any transaction; None when the chunk will not run.

        The snapshot is read in a short read-only session, closed before ``prepare`` starts.
        A lost lease or a requested cancel is final, so the chunk's transaction that follows
        drops the job or cancels it without calling ``run_chunk``.
        """
        with self.database.read_sessions() as session:
            job = lifecycle.held_job(session, lease)
            if job is None or job.cancel_requested:
                return None
            snapshot = JobSnapshot.of(job)
        return kind.prepare(snapshot, self.database)

    def _record_failure(self, lease: Lease, error: Exception) -> None:
        with self.database.write_sessions.begin() as session:
            now = database_now(session)
            job = lifecycle.renew_lease(session, lease, settings=self.settings, now=now)
            if job is None:
                return
            lifecycle.record_failed_attempt(
                session,
                job,
                lifecycle.describe_error(error),
                settings=self.settings,
                listeners=self.registry.finish_listeners,
                now=now,
            )


def reap_expired_leases(database: Database, registry: JobRegistry, settings: Settings) -> int:
    """One reaper pass: each job whose lease expired is re-queued with a backoff, failed at
    its last attempt, or cancelled if a cancel was requested. How many jobs were reaped."""
    reaped = 0
    with database.write_sessions.begin() as session:
        now = database_now(session)
        for job in lifecycle.expired_jobs(session, now=now):
            try:
                # One savepoint per job: a finish listener that raises for one job must not
                # keep the others from being re-queued.
                with session.begin_nested():
                    lifecycle.reap_expired_job(
                        session,
                        job,
                        settings=settings,
                        listeners=registry.finish_listeners,
                        now=now,
                    )
            except Exception:
                logger.exception("reaper: could not re-queue job %s", job.id)
            else:
                reaped += 1
    if reaped:
        logger.info("reaper: re-queued %d job(s) whose lease expired", reaped)
    return reaped


def run_until_idle(
    database: Database, registry: JobRegistry, settings: Settings, *, max_chunks: int = 100_000
) -> int:
    """Run chunks until no job is claimable (tests, one-off CLI runs); how many chunks ran.

    Jobs waiting for their retry backoff are not claimable yet, so they do not keep it busy.
    """
    worker = Worker(database, registry, settings, name=f"run-until-idle:{threading.get_ident()}")
    chunks = 0
    try:
        while chunks < max_chunks and worker.run_once():
            chunks += 1
    finally:
        worker.release()
    return chunks
