"""Running queued jobs to the end inside a test, with the registry the service uses."""

from typing import Any

from leadroute.db.session import Database
from leadroute.job_kinds import job_registry
from leadroute.jobs.worker import run_until_idle
from leadroute.settings import Settings


def run_jobs(db: Database, settings: Settings, **overrides: Any) -> int:
    """Run every claimable job to completion; returns the number of chunks run."""
    effective = settings.model_copy(update=overrides) if overrides else settings
    return run_until_idle(db, job_registry(effective), effective)
