"""Faults in the middle of one bulk-assign job, and the job still ends as if nothing happened.

Three faults, each against real ``leadroute worker`` processes:

- the worker is SIGKILLed three times, at random points of the job (both engines);
- the worker's PostgreSQL backend is terminated (``pg_terminate_backend``) while it is inside a
  chunk, three times; the same worker process lives on and finishes the job;
- another SQLite connection holds the write lock (``BEGIN IMMEDIATE``) for longer than the
  worker's busy timeout, twice: the chunk fails with "database is locked" and is retried.

Each time the job ends ``success`` and the final state equals an uninterrupted run's: lead i
(in id order) is owned by user i mod K, every lead was changed exactly once (the compact
history holds each lead once), and the job's counts are exact.

``LEADROUTE_FAULT_SEED`` replays the random kill points of a failed run (the seed is in
every assertion message).
"""

import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from leadroute.assignment.models import AssignmentBatch
from leadroute.db.session import Database
from leadroute.jobs.models import BackgroundJob
from leadroute.leads.models import Lead
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads, many_leads

REPO_ROOT = Path(__file__).resolve().parents[1]

LEADS = 12_000
USERS = 3
CHUNK_SIZE = 200  # 60 chunks: room for three faults before the job ends
LEASE_SECONDS = 1.0
BUSY_TIMEOUT_MS = 500
LOCK_HOLD_SECONDS = 1.5  # three busy timeouts

SEED = int(os.environ.get("LEADROUTE_FAULT_SEED", str(time.time_ns() % 1_000_000)))

pytestmark = pytest.mark.timeout(150)


class WorkerProcess:
    """A ``python -m leadroute worker`` process whose stderr is kept for the assertions."""

    def __init__(self, database_url: str, **env: str) -> None:
        environment = {
            **os.environ,
            "LEADROUTE_DATABASE_URL": database_url,
            "LEADROUTE_JOB_CHUNK_SIZE": str(CHUNK_SIZE),
            "LEADROUTE_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "LEADROUTE_JOB_POLL_INTERVAL_SECONDS": "0.05",
            "LEADROUTE_JOB_RETRY_BASE_SECONDS": "0.1",
            "LEADROUTE_JOB_MAX_ATTEMPTS": "10",
            **env,
        }
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "leadroute", "worker", "--concurrency", "1"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        assert self.popen.wait(timeout=10) == -signal.SIGKILL


@pytest.fixture
def start_worker(settings: Settings) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(database_url: str | None = None, **env: str) -> WorkerProcess:
        worker = WorkerProcess(database_url or settings.database_url, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.popen.poll() is None:
            worker.popen.kill()
        worker.popen.wait(timeout=30)


def load(db: Database, job_id: str) -> BackgroundJob:
    with db.read_sessions() as session:
        return session.get_one(BackgroundJob, uuid.UUID(job_id))


def wait_for(
    db: Database,
    job_id: str,
    condition: Callable[[BackgroundJob], bool],
    timeout: float = 60,
    explain: Callable[[], str] = lambda: "",
) -> BackgroundJob:
    deadline = time.monotonic() + timeout
    while True:
        job = load(db, job_id)
        if condition(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(
                f"seed {SEED}: job {job_id} timed out: {job.status} {job.data}\n{explain()}"
            )
        time.sleep(0.005)


def done(job: BackgroundJob) -> int:
    return int(job.data.get("success_count", 0))


def held_by(job: BackgroundJob, worker: WorkerProcess) -> bool:
    """Whether ``worker``'s process holds the job's lease (owners are ``host:pid:thread``)."""
    return job.lease_owner is not None and f":{worker.popen.pid}:" in job.lease_owner


def accept_bulk_assign(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> tuple[list[str], str]:
    users = [
        api.post(
            "/api/v2/workspace-members", json={"email": f"rep{i}@acme.test", "role": "editor"}
        ).json()["user_id"]
        for i in range(USERS)
    ]
    insert_leads(db, workspace.workspace_id, many_leads(LEADS))
    accepted = api.post("/api/v2/leads/bulk-assign", json={"organization_user_ids": users})
    assert accepted.status_code == 202, accepted.text
    return users, accepted.json()["job_id"]


def assert_same_as_an_uninterrupted_run(
    db: Database, workspace: WorkspaceClient, users: list[str], job: BackgroundJob
) -> None:
    assert job.status == "success", f"seed {SEED}: {job.data}"
    assert job.progress == 100
    workspace_id = uuid.UUID(workspace.workspace_id)
    with db.read_sessions() as session:
        owners = [
            str(owner)
            for owner in session.scalars(
                select(Lead.assigned_to).where(Lead.workspace_id == workspace_id).order_by(Lead.id)
            )
        ]
        batches = session.execute(
            select(
                AssignmentBatch.first_lead_id,
                AssignmentBatch.last_lead_id,
                AssignmentBatch.change_count,
            )
            .where(AssignmentBatch.job_id == job.id)
            .order_by(AssignmentBatch.first_lead_id)
        ).all()
    expected = [users[i % USERS] for i in range(LEADS)]
    mismatches = [
        i for i, (got, want) in enumerate(zip(owners, expected, strict=True)) if got != want
    ]
    assert mismatches == [], f"seed {SEED}: {len(mismatches)} leads with the wrong owner"
    # Every lead started with no owner, so each was changed exactly once: the history batches
    # cover disjoint id ranges and hold LEADS changes in all (none skipped, none twice).
    assert sum(batch.change_count for batch in batches) == LEADS, f"seed {SEED}"
    for earlier, later in itertools.pairwise(batches):
        assert earlier.last_lead_id < later.first_lead_id, f"seed {SEED}: overlapping chunks"
    data = job.data
    assert data["success_count"] == LEADS
    assert data["total_to_process"] == LEADS
    assert data["unchanged_count"] == 0
    assert data["failed_count"] == 0
    assert data["assigned_per_user"] == dict(Counter(expected))
    assert "error" not in data
    assert job.state["position"] == LEADS


def test_a_job_whose_worker_is_killed_three_times_ends_as_an_uninterrupted_run(
    api: TestClient,
    workspace: WorkspaceClient,
    db: Database,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    rng = random.Random(SEED)
    users, job_id = accept_bulk_assign(api, db, workspace)

    for kill in range(3):
        before = done(load(db, job_id))
        worker = start_worker()
        # This worker holds the job once it has committed a chunk; the kill then lands at a
        # random point: between chunks, inside one, or while it commits. Progress alone does
        # not say which worker made it: a worker killed after sending its COMMIT still
        # commits, and that can land after `before` was read.
        wait_for(
            db,
            job_id,
            lambda job, before=before, worker=worker: held_by(job, worker) and done(job) > before,
            60,
            worker.output,
        )
        time.sleep(rng.uniform(0, 0.08))
        worker.kill()
        interrupted = load(db, job_id)
        assert interrupted.status == "in-progress", f"seed {SEED}: kill {kill} came too late"
        assert 0 < done(interrupted) < LEADS

    survivor = start_worker()
    finished = wait_for(db, job_id, lambda job: job.status in ("success", "failed"), 90)
    assert finished.attempts == 3, survivor.output()  # each kill: one lease expiry
    assert_same_as_an_uninterrupted_run(db, workspace, users, finished)


@pytest.mark.engine("postgresql")
def test_a_job_whose_postgresql_backend_is_terminated_ends_as_an_uninterrupted_run(
    api: TestClient,
    workspace: WorkspaceClient,
    db: Database,
    settings: Settings,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    rng = random.Random(SEED)
    users, job_id = accept_bulk_assign(api, db, workspace)
    application_name = f"lr_fault_{uuid.uuid4().hex[:12]}"
    url = make_url(settings.database_url).update_query_dict({"application_name": application_name})
    worker = start_worker(url.render_as_string(hide_password=False))
    # A chunk's statements read or write `leads`; the claim, the reaper and the failure
    # record touch only `background_jobs`. Terminate the worker's backend only mid-chunk.
    in_chunk = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = :name AND state IN ('active', 'idle in transaction') "
        "AND query ~* '\\mleads\\M'"
    )
    admin = create_engine(make_url(settings.database_url), isolation_level="AUTOCOMMIT")
    terminated = 0
    try:
        with admin.connect() as connection:
            while terminated < 3:
                before = done(load(db, job_id))
                wait_for(
                    db, job_id, lambda job, before=before: done(job) > before, 60, worker.output
                )
                time.sleep(rng.uniform(0, 0.05))
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    hits = connection.execute(in_chunk, {"name": application_name}).all()
                    if hits:
                        terminated += 1
                        break
                    time.sleep(0.001)
                else:
                    raise AssertionError(f"seed {SEED}: the worker never was inside a chunk")
                assert load(db, job_id).status != "success", f"seed {SEED}: the job ended first"
    finally:
        admin.dispose()

    finished = wait_for(db, job_id, lambda job: job.status in ("success", "failed"), 90)
    assert worker.popen.poll() is None, worker.output()  # the same worker lived on
    # A termination that landed just after a commit costs nothing; one inside a chunk is a
    # failed attempt, retried after the backoff.
    assert 1 <= finished.attempts <= terminated, worker.output()
    assert_same_as_an_uninterrupted_run(db, workspace, users, finished)


def take_write_lock(connection: sqlite3.Connection, timeout: float = 10) -> None:
    """``BEGIN IMMEDIATE``, retried without sleeping in the busy handler.

    SQLite's busy handler is not fair: a worker that begins its next chunk as soon as it
    commits one would win the lock every time against a waiter that sleeps between polls.
    Polling this fast catches the moment between two chunks.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.0002)


@pytest.mark.engine("sqlite")
def test_a_job_blocked_by_another_writer_beyond_the_busy_timeout_ends_as_an_uninterrupted_run(
    api: TestClient,
    workspace: WorkspaceClient,
    db: Database,
    settings: Settings,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    rng = random.Random(SEED)
    users, job_id = accept_bulk_assign(api, db, workspace)
    path = make_url(settings.database_url).database
    assert path
    worker = start_worker(LEADROUTE_SQLITE_BUSY_TIMEOUT_MS=str(BUSY_TIMEOUT_MS))

    for _ in range(2):
        before = done(load(db, job_id))
        wait_for(db, job_id, lambda job, before=before: done(job) > before, 60, worker.output)
        time.sleep(rng.uniform(0, 0.05))
        # A second writer: its own connection takes the write lock and keeps it well past
        # the worker's busy timeout.
        holder = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            take_write_lock(holder)
            held_at = done(load(db, job_id))
            time.sleep(LOCK_HOLD_SECONDS)
            assert done(load(db, job_id)) == held_at  # nothing committed meanwhile
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert load(db, job_id).status != "success", f"seed {SEED}: the job ended first"

    finished = wait_for(db, job_id, lambda job: job.status in ("success", "failed"), 90)
    assert worker.popen.poll() is None, worker.output()
    assert "database is locked" in worker.output()
    assert finished.attempts >= 1, worker.output()
    assert_same_as_an_uninterrupted_run(db, workspace, users, finished)
