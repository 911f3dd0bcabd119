"""A worker process killed with SIGKILL in the middle of a 50,000-lead bulk-assign.

A second worker takes the job over once the dead worker's lease expires and finishes it;
the final owners must equal an uninterrupted run's: lead i (in id order) owned by user i mod 3.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadroute.db.session import Database
from leadroute.leads.models import Lead
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads, many_leads

LEADS = 50_000
USERS = 3


@pytest.fixture
def spawn_worker(settings: Settings) -> Iterator[Any]:
    processes: list[subprocess.Popen[bytes]] = []

    def spawn() -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "LEADROUTE_DATABASE_URL": settings.database_url,
            "LEADROUTE_JOB_CHUNK_SIZE": "500",
            "LEADROUTE_JOB_LEASE_SECONDS": "2",
            "LEADROUTE_JOB_POLL_INTERVAL_SECONDS": "0.1",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "leadroute", "worker", "--concurrency", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    yield spawn
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_for(api: TestClient, job_id: str, done: Any, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(f"/api/v2/background-jobs/{job_id}").json()
        if done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not reach the expected state: {job}")


def test_a_killed_worker_s_job_is_finished_by_another_with_the_same_result(
    api: TestClient,
    workspace: WorkspaceClient,
    db: Database,
    spawn_worker: Any,
) -> None:
    users = [
        api.post(
            "/api/v2/workspace-members", json={"email": f"rep{i}@acme.test", "role": "editor"}
        ).json()["user_id"]
        for i in range(USERS)
    ]
    insert_leads(db, workspace.workspace_id, many_leads(LEADS))
    accepted = api.post("/api/v2/leads/bulk-assign", json={"organization_user_ids": users})
    assert accepted.status_code == 202
    job_id = accepted.json()["job_id"]

    first = spawn_worker()
    partial = wait_for(api, job_id, lambda job: job["data"].get("success_count", 0) >= 10_000)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert partial["status"] == "in-progress"
    interrupted = api.get(f"/api/v2/background-jobs/{job_id}").json()
    assert interrupted["status"] == "in-progress"
    assert 0 < interrupted["data"]["success_count"] < LEADS

    spawn_worker()
    finished = wait_for(api, job_id, lambda job: job["status"] in ("success", "failed"))
    assert finished["status"] == "success", finished
    assert finished["progress"] == 100

    with db.read_sessions() as session:
        rows = session.execute(
            select(Lead.assigned_to)
            .where(Lead.workspace_id == uuid.UUID(workspace.workspace_id))
            .order_by(Lead.id)
        ).all()
    owners = [str(owner) for (owner,) in rows]
    expected = [users[i % USERS] for i in range(LEADS)]
    mismatches = sum(1 for got, want in zip(owners, expected, strict=True) if got != want)
    assert mismatches == 0
    data = finished["data"]
    assert data["success_count"] == LEADS
    assert data["total_to_process"] == LEADS
    assert data["unchanged_count"] == 0
    assert data["assigned_per_user"] == dict(Counter(expected))
