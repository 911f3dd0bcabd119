"""Running queued jobs to the end inside a test, with the registry the service uses."""

import time
from typing import Any

from sqlalchemy import func, select

from leadroute.db.session import Database
from leadroute.job_kinds import job_registry
from leadroute.jobs.models import ACTIVE_STATUSES, BackgroundJob
from leadroute.jobs.worker import run_until_idle
from leadroute.settings import Settings


def run_jobs(db: Database, settings: Settings, **overrides: Any) -> int:
    """Run every claimable job to completion; returns the number of chunks run."""
    effective = settings.model_copy(update=overrides) if overrides else settings
    return run_until_idle(db, job_registry(effective), effective)


def run_jobs_until_settled(
    db: Database, settings: Settings, *, timeout: float = 15.0, **overrides: Any
) -> int:
    """Run jobs, waiting out retry backoffs, until none is pending or in progress.

    Pass a small ``job_retry_base_seconds`` so the waits are short. Returns the chunks run.
    """
    deadline = time.monotonic() + timeout
    chunks = 0
    while True:
        chunks += run_jobs(db, settings, **overrides)
        with db.read_sessions() as session:
            active = session.scalar(
                select(func.count()).where(BackgroundJob.status.in_(ACTIVE_STATUSES))
            )
        if not active:
            return chunks
        if time.monotonic() > deadline:
            raise AssertionError(f"{active} job(s) still active after {timeout} s")
        time.sleep(0.02)
