"""`leadroute worker` as real processes sharing one queue: the work is spread over them, a
SIGKILLed worker's job is finished by another once its lease expires, and a SIGTERMed worker
finishes its chunk and hands its job over at once.

The workers run the test-only counting kind, registered through the
``LEADROUTE_EXTRA_JOB_KINDS`` hook.
"""

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from leadroute.db.session import Database
from leadroute.jobs.models import BackgroundJob
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.counting_job import COUNTING, wait_until
from tests.counting_job import enqueue_counting as enqueue
from tests.counting_job import load_job as load

REPO_ROOT = Path(__file__).resolve().parents[1]
READY = "leadroute worker ready"


class WorkerProcess:
    """A `python -m leadroute worker` subprocess whose stderr is drained in the background."""

    def __init__(self, settings: Settings, lease_seconds: float) -> None:
        env = {
            **os.environ,
            "LEADROUTE_DATABASE_URL": settings.database_url,
            "LEADROUTE_EXTRA_JOB_KINDS": "tests.counting_job:counting_kind",
            "LEADROUTE_JOB_LEASE_SECONDS": str(lease_seconds),
            "LEADROUTE_JOB_POLL_INTERVAL_SECONDS": "0.05",
        }
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "leadroute", "worker", "--concurrency", "1"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _drain(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.lines.append(line)

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(lambda: any(READY in line for line in self.lines), timeout, self.output)

    def output(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def start_worker(settings: Settings) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(lease_seconds: float = 2) -> WorkerProcess:
        worker = WorkerProcess(settings, lease_seconds)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.popen.poll() is None:
            worker.popen.kill()
        worker.popen.wait(timeout=30)


def owner_pid(job: BackgroundJob) -> int:
    """``lease_owner`` is ``<host>:<pid>:<thread number>``."""
    assert job.lease_owner is not None
    return int(job.lease_owner.split(":")[-2])


def holder_once_running(
    db: Database, job_id: uuid.UUID, workers: list[WorkerProcess]
) -> WorkerProcess:
    """The worker process holding the job, once it has committed two chunks."""
    wait_until(lambda: load(db, job_id).data.get("counted", 0) >= 2, 60)
    pid = owner_pid(load(db, job_id))
    return next(worker for worker in workers if worker.pid == pid)


def test_two_worker_processes_share_the_queue(
    backend: str,
    db: Database,
    workspace: WorkspaceClient,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    # A lease far longer than a chunk: on a loaded machine a 2 s lease can run out while a
    # worker waits for SQLite's write lock, and a re-queued attempt is not what this tests.
    workers = [start_worker(lease_seconds=30), start_worker(lease_seconds=30)]
    for worker in workers:
        worker.wait_ready()
    job_ids = [enqueue(db, workspace.workspace_id, target=3, sleep=0.1) for _ in range(8)]

    wait_until(lambda: all(load(db, job).status == "success" for job in job_ids), 90)
    jobs = [load(db, job) for job in job_ids]
    if backend == "postgresql":
        assert {owner_pid(job) for job in jobs} == {worker.pid for worker in workers}
    # On SQLite (one writer at a time; several worker processes are a PostgreSQL topology)
    # a second process may mostly wait, but it must never run a job twice or waste an attempt.
    for job in jobs:
        assert (job.data["counted"], job.attempts, job.data["pids"]) == (3, 0, [owner_pid(job)])


def test_a_killed_workers_job_is_finished_by_another_once_its_lease_expires(
    db: Database, workspace: WorkspaceClient, start_worker: Callable[..., WorkerProcess]
) -> None:
    workers = [start_worker(lease_seconds=2), start_worker(lease_seconds=2)]
    for worker in workers:
        worker.wait_ready()
    job_id = enqueue(db, workspace.workspace_id, target=20, sleep=0.1)
    victim = holder_once_running(db, job_id, workers)
    (survivor,) = (worker for worker in workers if worker is not victim)

    victim.popen.send_signal(signal.SIGKILL)
    assert victim.popen.wait(timeout=10) == -signal.SIGKILL
    wait_until(lambda: load(db, job_id).status == "success", 90, survivor.output)

    job = load(db, job_id)
    assert owner_pid(job) == survivor.pid
    assert job.attempts == 1  # the lease expiry counted as a failed attempt
    assert (job.data["counted"], job.state["counted"], job.progress) == (20, 20, 100)
    assert job.data["pids"] == sorted([victim.pid, survivor.pid])
    assert "error" not in job.data


def test_a_terminated_worker_finishes_its_chunk_and_hands_its_job_over_at_once(
    db: Database, workspace: WorkspaceClient, start_worker: Callable[..., WorkerProcess]
) -> None:
    # A lease far longer than the test: only a release lets the other worker take the job.
    workers = [start_worker(lease_seconds=600), start_worker(lease_seconds=600)]
    for worker in workers:
        worker.wait_ready()
    job_id = enqueue(db, workspace.workspace_id, target=20, sleep=0.1)
    leaving = holder_once_running(db, job_id, workers)
    (staying,) = (worker for worker in workers if worker is not leaving)

    leaving.popen.send_signal(signal.SIGTERM)
    assert leaving.popen.wait(timeout=30) == 0, leaving.output()
    wait_until(lambda: load(db, job_id).status == "success", 30, staying.output)

    job = load(db, job_id)
    assert owner_pid(job) == staying.pid
    assert job.attempts == 0
    assert (job.data["counted"], job.state["counted"]) == (20, 20)
    assert job.data["pids"] == sorted([leaving.pid, staying.pid])


def test_embedded_workers_run_with_the_app_and_release_their_job_when_it_stops(
    db: Database,
    workspace: WorkspaceClient,
    settings: Settings,
) -> None:
    from fastapi.testclient import TestClient

    from leadroute.app import create_app
    from leadroute.runtime import embedded_worker_hooks

    embedded = settings.model_copy(
        update={
            "embedded_workers": 2,
            "job_poll_interval_seconds": 0.05,
            "extra_job_kinds": "tests.counting_job:counting_kind",
        }
    )
    start, stop = embedded_worker_hooks(embedded, db)
    app = create_app(embedded, database=db, on_startup=start, on_shutdown=stop)
    job_id = enqueue(db, workspace.workspace_id, target=1000, sleep=0.02)
    with TestClient(app):
        wait_until(lambda: load(db, job_id).data.get("counted", 0) >= 2, 30)
        assert COUNTING in app.state.job_registry.types()
    job = load(db, job_id)
    assert (job.status, job.attempts, job.lease_token) == ("pending", 0, None)
    assert job.data["counted"] == job.state["counted"] >= 2
    assert embedded_worker_hooks(settings, db) == (None, None)  # embedded_workers=0
