"""The job engine's hooks for kinds whose work happens outside the database: ``prepare``
(runs outside any transaction, its result goes to ``run_chunk``) and
``ChunkOutcome.failed_attempt`` (a failed attempt that keeps what the chunk wrote)."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from leadroute.db.session import Database
from leadroute.ids import utcnow
from leadroute.jobs.kinds import ChunkOutcome, JobRegistry, JobSnapshot, PreparedJobKind
from leadroute.jobs.lifecycle import next_attempt_at
from leadroute.jobs.models import BackgroundJob
from leadroute.jobs.service import cancel_job, enqueue_job
from leadroute.jobs.worker import Worker, run_until_idle
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.counting_job import load_job as load

PREPARING = "test-preparing"


class PreparingJob:
    """Each chunk "calls out" in ``prepare`` and records the answer in ``run_chunk``.

    ``state["answers"]``: the answer of each call in order ("ok" finishes the job, anything
    else is a failed attempt); ``state["chunks"]`` chunks of "ok" are needed to finish.
    ``state["in_prepare"]``: "write" commits a write to the job row from ``prepare`` (it would
    wait forever for a lock the chunk's transaction held), "raise" raises, "steal" takes the
    job away from the worker (as the reaper would).
    """

    type = PREPARING

    def __init__(self) -> None:
        self.prepared: list[dict[str, Any]] = []
        self.recorded: list[dict[str, Any]] = []

    def prepare(self, job: JobSnapshot, database: Database) -> dict[str, Any]:
        calls = len(job.data.get("answers_seen", []))
        action = job.state.get("in_prepare")
        if action == "write":
            with database.write_sessions.begin() as session:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SET LOCAL lock_timeout = '2s'"))
                session.execute(
                    update(BackgroundJob)
                    .where(BackgroundJob.id == job.id)
                    .values(entity_id="written-during-prepare")
                )
        elif action == "raise":
            raise RuntimeError("the call could not be made")
        elif action == "steal":
            with database.write_sessions.begin() as session:
                session.execute(
                    update(BackgroundJob)
                    .where(BackgroundJob.id == job.id)
                    .values(status="pending", lease_token=None, lease_expires_at=None)
                )
        prepared = {"answer": job.state["answers"][calls], "attempts_before": job.attempts}
        self.prepared.append(prepared)
        return prepared

    def run_chunk(
        self, session: Session, job: BackgroundJob, prepared: dict[str, Any] | None = None
    ) -> ChunkOutcome:
        assert prepared is not None
        self.recorded.append(prepared)
        seen = [*job.data.get("answers_seen", []), prepared["answer"]]
        data = {**job.data, "answers_seen": seen}
        if prepared["answer"] != "ok":
            return ChunkOutcome(
                data=data,
                state=job.state,
                progress=0,
                finished=False,
                failed_attempt=f"the other side said {prepared['answer']}",
            )
        done = seen.count("ok")
        return ChunkOutcome(
            data=data,
            state=job.state,
            progress=done * 100 // job.state.get("chunks", 1),
            finished=done >= job.state.get("chunks", 1),
        )


@pytest.fixture
def kind() -> PreparingJob:
    return PreparingJob()


@pytest.fixture
def finished() -> list[tuple[uuid.UUID, str]]:
    return []


@pytest.fixture
def registry(kind: PreparingJob, finished: list[tuple[uuid.UUID, str]]) -> JobRegistry:
    registry = JobRegistry()
    registry.register(kind)
    registry.add_finish_listener(lambda _session, job: finished.append((job.id, job.status)))
    return registry


def enqueue(
    db: Database, workspace: WorkspaceClient, *, max_attempts: int | None = None, **state: Any
) -> uuid.UUID:
    with db.write_sessions.begin() as session:
        return enqueue_job(
            session,
            workspace_id=uuid.UUID(workspace.workspace_id),
            user_id=None,
            type=PREPARING,
            entity_type="workspace",
            entity_id=None,
            data={},
            state=state,
            max_attempts=max_attempts,
        ).id


def make_due(db: Database, job_id: uuid.UUID) -> None:
    with db.write_sessions.begin() as session:
        session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(run_after=utcnow() - timedelta(seconds=1))
        )


def test_a_kind_with_prepare_is_recognised_as_a_prepared_kind(kind: PreparingJob) -> None:
    assert isinstance(kind, PreparedJobKind)


def test_prepare_runs_outside_the_chunks_transaction_and_its_result_reaches_run_chunk(
    db: Database,
    workspace: WorkspaceClient,
    registry: JobRegistry,
    kind: PreparingJob,
    settings: Settings,
) -> None:
    job_id = enqueue(db, workspace, answers=["ok"], in_prepare="write")

    run_until_idle(db, registry, settings)

    job = load(db, job_id)
    assert job.status == "success"
    # The write committed from inside prepare (no lock held by the worker) survives the chunk.
    assert job.entity_id == "written-during-prepare"
    assert kind.recorded == kind.prepared == [{"answer": "ok", "attempts_before": 0}]
    assert job.data == {"answers_seen": ["ok"]}


def test_a_failed_attempt_outcome_keeps_the_chunks_writes_and_retries_after_the_backoff(
    db: Database,
    workspace: WorkspaceClient,
    registry: JobRegistry,
    settings: Settings,
    finished: list[tuple[uuid.UUID, str]],
) -> None:
    job_id = enqueue(db, workspace, answers=["busy", "ok"])
    slow_retries = settings.model_copy(update={"job_retry_base_seconds": 60.0})

    assert Worker(db, registry, slow_retries, name="w").run_once() is True

    job = load(db, job_id)
    assert job.status == "pending"
    assert job.attempts == 1
    assert job.data == {"answers_seen": ["busy"], "error": "the other side said busy"}
    assert job.run_after == job.updated_at + timedelta(seconds=60)
    assert job.lease_token is None
    assert finished == []

    make_due(db, job_id)
    run_until_idle(db, registry, slow_retries)
    job = load(db, job_id)
    assert job.status == "success"
    assert job.attempts == 1
    assert job.data == {"answers_seen": ["busy", "ok"]}
    assert finished == [(job_id, "success")]


def test_the_last_failed_attempt_outcome_fails_the_job_and_tells_the_listeners(
    db: Database,
    workspace: WorkspaceClient,
    registry: JobRegistry,
    settings: Settings,
    finished: list[tuple[uuid.UUID, str]],
) -> None:
    job_id = enqueue(db, workspace, max_attempts=2, answers=["busy", "down", "ok"])

    Worker(db, registry, settings, name="w").run_once()
    make_due(db, job_id)
    run_until_idle(db, registry, settings)

    job = load(db, job_id)
    assert job.status == "failed"
    assert job.attempts == 2
    assert job.data == {"answers_seen": ["busy", "down"], "error": "the other side said down"}
    assert finished == [(job_id, "failed")]


def test_a_prepare_that_raises_is_a_failed_attempt_and_the_chunk_does_not_run(
    db: Database,
    workspace: WorkspaceClient,
    registry: JobRegistry,
    kind: PreparingJob,
    settings: Settings,
) -> None:
    job_id = enqueue(db, workspace, answers=["ok"], in_prepare="raise")

    Worker(db, registry, settings, name="w").run_once()

    job = load(db, job_id)
    assert job.status == "pending"
    assert job.attempts == 1
    assert job.data == {"error": "RuntimeError: the call could not be made"}
    assert kind.recorded == []


def test_prepare_is_skipped_once_a_cancel_is_requested(
    db: Database,
    workspace: WorkspaceClient,
    registry: JobRegistry,
    kind: PreparingJob,
    settings: Settings,
    finished: list[tuple[uuid.UUID, str]],
) -> None:
    job_id = enqueue(db, workspace, answers=["ok", "ok"], chunks=2)
    worker = Worker(db, registry, settings, name="w")
    worker.run_once()
    assert load(db, job_id).status == "in-progress"
    with db.write_sessions.begin() as session:
        cancel_job(session, uuid.UUID(workspace.workspace_id), job_id)

    worker.run_once()

    assert load(db, job_id).status == "cancelled"
    assert len(kind.prepared) == 1
    assert finished == [(job_id, "cancelled")]


def test_a_prepared_result_is_dropped_when_the_lease_was_lost_meanwhile(
    db: Database,
    workspace: WorkspaceClient,
    registry: JobRegistry,
    kind: PreparingJob,
    settings: Settings,
) -> None:
    job_id = enqueue(db, workspace, answers=["ok"], in_prepare="steal")
    worker = Worker(db, registry, settings, name="w")

    worker.run_once()

    job = load(db, job_id)
    assert job.status == "pending"
    assert job.data == {}
    assert len(kind.prepared) == 1
    assert kind.recorded == []
    assert worker.lease is None


def test_the_next_attempt_follows_the_retry_settings_and_none_is_the_last(
    settings: Settings,
) -> None:
    retries = settings.model_copy(
        update={"job_retry_base_seconds": 0.5, "job_retry_max_seconds": 1.5, "job_max_attempts": 4}
    )
    now = utcnow()

    def after(attempts: int, max_attempts: int | None = None) -> timedelta | None:
        job = BackgroundJob(attempts=attempts, max_attempts=max_attempts)
        at = next_attempt_at(job, settings=retries, now=now)
        return None if at is None else at - now

    assert [after(n) for n in range(4)] == [
        timedelta(seconds=0.5),
        timedelta(seconds=1),
        timedelta(seconds=1.5),
        None,
    ]
    assert after(1, max_attempts=2) is None
