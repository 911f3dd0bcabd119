"""A test-only job kind that counts to ``state["target"]``, one step per chunk.

Driven by the job's ``state`` so it behaves the same in a worker subprocess
(``LEADROUTE_EXTRA_JOB_KINDS=tests.counting_job:counting_kind``):
- ``sleep``: seconds each chunk takes;
- ``fail_at`` / ``fail_attempts``: the chunk that starts at ``counted == fail_at`` raises while
  the job has had fewer than ``fail_attempts`` failed attempts (default: always). Before
  raising it writes ``data["counted"] = "partial"``, which the rollback must undo.
``data`` shows ``counted`` and the ``pids`` of the processes that ran chunks.
Also the helpers the job tests share: queue one, read one back, wait for a condition.
"""

import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from leadroute.db.session import Database
from leadroute.jobs.kinds import ChunkOutcome
from leadroute.jobs.models import BackgroundJob
from leadroute.jobs.service import enqueue_job

COUNTING = "test-counting"


class CountingJob:
    type = COUNTING

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (job id, counted after the chunk, "start" | "end") in the order chunks ran.
        self.events: list[tuple[uuid.UUID, int, str]] = []

    @property
    def chunks_run(self) -> int:
        return sum(1 for event in self.events if event[2] == "end")

    def run_chunk(self, session: Session, job: BackgroundJob) -> ChunkOutcome:
        state: dict[str, Any] = dict(job.state)
        counted: int = state.get("counted", 0)
        self._record(job.id, counted, "start")
        if counted == state.get("fail_at") and job.attempts < state.get("fail_attempts", 10**6):
            job.data = {**job.data, "counted": "partial"}
            session.flush()
            raise RuntimeError(f"boom at {counted}")
        time.sleep(state.get("sleep", 0))
        counted += 1
        state["counted"] = counted
        data = {
            **job.data,
            "counted": counted,
            "pids": sorted({*job.data.get("pids", []), os.getpid()}),
        }
        self._record(job.id, counted, "end")
        target: int = state["target"]
        return ChunkOutcome(
            data=data,
            state=state,
            progress=counted * 100 // target,
            finished=counted >= target,
        )

    def _record(self, job_id: uuid.UUID, counted: int, event: str) -> None:
        with self._lock:
            self.events.append((job_id, counted, event))


counting_kind = CountingJob()


def enqueue_counting(
    db: Database,
    workspace_id: uuid.UUID | str,
    *,
    target: int = 3,
    queue_key: str | None = None,
    max_attempts: int | None = None,
    **state: Any,
) -> uuid.UUID:
    """Queue (and commit) a counting job; ``state`` takes ``sleep``, ``fail_at``, ..."""
    with db.write_sessions.begin() as session:
        return enqueue_job(
            session,
            workspace_id=uuid.UUID(str(workspace_id)),
            user_id=None,
            type=COUNTING,
            entity_type="workspace",
            entity_id=str(workspace_id),
            data={},
            state={"target": target, **state},
            queue_key=queue_key,
            max_attempts=max_attempts,
        ).id


def load_job(db: Database, job_id: uuid.UUID) -> BackgroundJob:
    with db.read_sessions() as session:
        return session.get_one(BackgroundJob, job_id)


def wait_until(
    condition: Callable[[], bool], timeout: float = 30, explain: Callable[[], str] = lambda: ""
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out\n{explain()}")
        time.sleep(0.02)
