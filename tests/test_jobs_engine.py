"""The job engine: claiming, leases and fencing, the reaper, retries, serial queues, cancel,
shutdown, finish listeners. Driven by the test-only counting kind (tests/counting_job.py)."""

import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from leadroute.db.engine import create_db_engine
from leadroute.db.migrate import upgrade_database
from leadroute.db.session import Database, write_in_one_statement
from leadroute.errors import Conflict, NotFound
from leadroute.ids import utcnow
from leadroute.jobs import service as jobs_service
from leadroute.jobs.kinds import ChunkOutcome, JobRegistry
from leadroute.jobs.lifecycle import LEASE_EXPIRED_ERROR, retry_delay
from leadroute.jobs.models import BackgroundJob, background_jobs, job_queues
from leadroute.jobs.service import cancel_job, enqueue_job
from leadroute.jobs.worker import Worker, reap_expired_leases, run_until_idle
from leadroute.runtime import WorkerPool
from leadroute.settings import Settings
from leadroute.workspaces.models import Workspace
from tests.conftest import (
    SecondWriteInSingleWriteSession,
    WorkspaceClient,
    fresh_database_settings,
)
from tests.counting_job import COUNTING, CountingJob, wait_until
from tests.counting_job import enqueue_counting as enqueue
from tests.counting_job import load_job as load

Finished = list[tuple[uuid.UUID, str]]


@pytest.fixture
def kind() -> CountingJob:
    return CountingJob()


@pytest.fixture
def registry(kind: CountingJob) -> JobRegistry:
    registry = JobRegistry()
    registry.register(kind)
    return registry


@pytest.fixture
def finished(registry: JobRegistry) -> Finished:
    """(job id, status) of every job the finish listeners heard of, in order."""
    seen: Finished = []
    registry.add_finish_listener(lambda _session, job: seen.append((job.id, job.status)))
    return seen


@pytest.fixture
def workspace_id(workspace: WorkspaceClient) -> uuid.UUID:
    return uuid.UUID(workspace.workspace_id)


def set_columns(db: Database, job_id: uuid.UUID, **values: Any) -> None:
    with db.write_sessions.begin() as session:
        session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(**values))


def make_due(db: Database, job_id: uuid.UUID) -> None:
    """Skip the retry backoff."""
    set_columns(db, job_id, run_after=utcnow() - timedelta(seconds=1))


def expire_lease(db: Database, job_id: uuid.UUID) -> None:
    set_columns(db, job_id, lease_expires_at=utcnow() - timedelta(seconds=1))


def test_a_job_runs_chunk_by_chunk_under_a_lease_to_success(
    db: Database,
    workspace_id: uuid.UUID,
    registry: JobRegistry,
    settings: Settings,
    finished: Finished,
) -> None:
    job_id = enqueue(db, workspace_id, target=3)
    queued = load(db, job_id)
    assert (queued.status, queued.progress, queued.attempts) == ("pending", 0, 0)
    assert queued.id.version == 7
    worker = Worker(db, registry, settings, name="w1")

    assert worker.run_once()
    job = load(db, job_id)
    assert (job.status, job.progress, job.data["counted"]) == ("in-progress", 33, 1)
    assert job.lease_owner == "w1"
    assert job.lease_token is not None
    assert job.lease_expires_at == job.updated_at + timedelta(seconds=settings.job_lease_seconds)
    first_token = job.lease_token

    assert worker.run_once()
    job = load(db, job_id)
    assert (job.status, job.progress, job.data["counted"]) == ("in-progress", 66, 2)
    assert job.lease_token == first_token  # renewed, not re-claimed
    assert finished == []

    assert worker.run_once()
    job = load(db, job_id)
    assert (job.status, job.progress, job.data["counted"], job.state["counted"]) == (
        "success",
        100,
        3,
        3,
    )
    assert job.finished_at == job.updated_at
    assert (job.lease_owner, job.lease_token, job.lease_expires_at) == ("w1", None, None)
    assert finished == [(job_id, "success")]
    assert not worker.run_once()


def test_a_job_exists_only_if_the_enqueuing_transaction_commits(
    db: Database, workspace_id: uuid.UUID, registry: JobRegistry, settings: Settings
) -> None:
    with db.write_sessions() as session:
        job = enqueue_job(
            session,
            workspace_id=workspace_id,
            user_id=None,
            type=COUNTING,
            entity_type="workspace",
            entity_id=None,
            data={},
            state={"target": 1},
        )
        job_id = job.id
        session.rollback()
    with db.read_sessions() as session:
        assert session.get(BackgroundJob, job_id) is None
    assert run_until_idle(db, registry, settings) == 0


def test_a_worker_whose_lease_was_taken_writes_nothing(
    db: Database,
    workspace_id: uuid.UUID,
    kind: CountingJob,
    registry: JobRegistry,
    settings: Settings,
) -> None:
    job_id = enqueue(db, workspace_id, target=3)
    worker = Worker(db, registry, settings, name="w1")
    assert worker.run_once()
    stolen_token = uuid.uuid4()
    set_columns(db, job_id, lease_token=stolen_token, lease_owner="thief")
    before = load(db, job_id)

    assert worker.run_once()
    after = load(db, job_id)
    assert worker.lease is None
    assert kind.chunks_run == 1
    assert (after.data, after.state, after.progress) == ({**before.data}, {**before.state}, 33)
    assert (after.lease_token, after.lease_owner) == (stolen_token, "thief")
    assert after.lease_expires_at == before.lease_expires_at
    assert after.updated_at == before.updated_at


def test_the_reaper_requeues_an_expired_lease_with_a_backoff_then_fails_the_last_attempt(
    db: Database,
    workspace_id: uuid.UUID,
    kind: CountingJob,
    registry: JobRegistry,
    settings: Settings,
    finished: Finished,
) -> None:
    job_id = enqueue(db, workspace_id, target=5, max_attempts=2)
    crashed = Worker(db, registry, settings, name="crashed")
    assert crashed.run_once()
    expire_lease(db, job_id)

    assert reap_expired_leases(db, registry, settings) == 1
    job = load(db, job_id)
    assert (job.status, job.attempts, job.data["counted"]) == ("pending", 1, 1)
    assert job.data["error"] == LEASE_EXPIRED_ERROR
    assert job.run_after == job.updated_at + retry_delay(1) == job.updated_at + timedelta(seconds=2)
    assert (job.lease_token, job.lease_expires_at) == (None, None)
    assert run_until_idle(db, registry, settings) == 0  # waiting for its backoff

    assert crashed.run_once()  # it comes back: the fence stops it
    assert crashed.lease is None
    assert kind.chunks_run == 1

    make_due(db, job_id)
    second = Worker(db, registry, settings, name="second")
    assert second.run_once()
    job = load(db, job_id)
    assert (job.status, job.lease_owner, job.data["counted"]) == ("in-progress", "second", 2)
    expire_lease(db, job_id)
    assert reap_expired_leases(db, registry, settings) == 1
    job = load(db, job_id)
    assert (job.status, job.attempts, job.data["counted"]) == ("failed", 2, 2)
    assert job.data["error"] == LEASE_EXPIRED_ERROR
    assert job.finished_at is not None
    assert finished == [(job_id, "failed")]


def test_the_reaper_leaves_live_leases_alone(
    db: Database, workspace_id: uuid.UUID, registry: JobRegistry, settings: Settings
) -> None:
    job_id = enqueue(db, workspace_id, target=3)
    worker = Worker(db, registry, settings, name="w1")
    assert worker.run_once()
    assert reap_expired_leases(db, registry, settings) == 0
    assert load(db, job_id).status == "in-progress"
    assert worker.run_once()
    assert load(db, job_id).data["counted"] == 2


def test_an_expired_job_with_a_cancel_requested_is_cancelled_by_the_reaper(
    db: Database,
    workspace_id: uuid.UUID,
    registry: JobRegistry,
    settings: Settings,
    finished: Finished,
) -> None:
    job_id = enqueue(db, workspace_id, target=3)
    assert Worker(db, registry, settings, name="w1").run_once()
    set_columns(db, job_id, cancel_requested=True)
    expire_lease(db, job_id)
    assert reap_expired_leases(db, registry, settings) == 1
    job = load(db, job_id)
    assert (job.status, job.attempts, job.data["counted"]) == ("cancelled", 0, 1)
    assert finished == [(job_id, "cancelled")]


def test_a_chunk_that_raises_is_rolled_back_retried_and_failed_after_max_attempts(
    db: Database,
    workspace_id: uuid.UUID,
    registry: JobRegistry,
    settings: Settings,
    finished: Finished,
) -> None:
    job_id = enqueue(db, workspace_id, target=3, max_attempts=2, fail_at=1)
    assert run_until_idle(db, registry, settings) == 2  # chunk 1, then chunk 2 raises
    job = load(db, job_id)
    assert (job.status, job.attempts, job.progress) == ("pending", 1, 33)
    assert job.data["counted"] == 1  # the failed chunk's write was rolled back
    assert job.data["error"] == "RuntimeError: boom at 1"
    assert job.run_after == job.updated_at + timedelta(seconds=2)
    assert finished == []

    make_due(db, job_id)
    assert run_until_idle(db, registry, settings) == 1
    job = load(db, job_id)
    assert (job.status, job.attempts, job.progress, job.state["counted"]) == ("failed", 2, 33, 1)
    assert job.data == {"counted": 1, "pids": job.data["pids"], "error": "RuntimeError: boom at 1"}
    assert job.finished_at is not None
    assert finished == [(job_id, "failed")]
    make_due(db, job_id)
    assert run_until_idle(db, registry, settings) == 0


def test_a_chunk_that_raised_once_is_retried_and_succeeds_without_an_error(
    db: Database, workspace_id: uuid.UUID, registry: JobRegistry, settings: Settings
) -> None:
    job_id = enqueue(db, workspace_id, target=3, fail_at=1, fail_attempts=1)
    run_until_idle(db, registry, settings)
    assert load(db, job_id).data["error"] == "RuntimeError: boom at 1"
    make_due(db, job_id)
    run_until_idle(db, registry, settings)
    job = load(db, job_id)
    assert (job.status, job.attempts, job.progress, job.data["counted"]) == ("success", 1, 100, 3)
    assert "error" not in job.data


def test_the_job_max_attempts_setting_applies_to_jobs_without_their_own(
    db: Database, workspace_id: uuid.UUID, registry: JobRegistry, settings: Settings
) -> None:
    one_attempt = settings.model_copy(update={"job_max_attempts": 1})
    job_id = enqueue(db, workspace_id, target=2, fail_at=0)
    assert run_until_idle(db, registry, one_attempt) == 1
    assert (load(db, job_id).status, load(db, job_id).attempts) == ("failed", 1)


def test_retry_delay_doubles_from_two_seconds_up_to_five_minutes() -> None:
    delays = [retry_delay(attempts).total_seconds() for attempts in (1, 2, 3, 4, 8, 9, 1000)]
    assert delays == [2, 4, 8, 16, 256, 300, 300]


def test_jobs_of_one_queue_run_one_at_a_time_in_id_order_while_other_queues_run(
    db: Database,
    workspace_id: uuid.UUID,
    kind: CountingJob,
    registry: JobRegistry,
    settings: Settings,
) -> None:
    first = enqueue(db, workspace_id, target=2, queue_key="assign:a")
    second = enqueue(db, workspace_id, target=1, queue_key="assign:a")
    other = enqueue(db, workspace_id, target=1, queue_key="assign:b")
    w1 = Worker(db, registry, settings, name="w1")
    w2 = Worker(db, registry, settings, name="w2")

    assert w1.run_once()  # claims `first` (lowest id), runs its chunk 1
    assert w2.run_once()  # `second` waits behind `first`: takes the other queue's job
    assert load(db, other).status == "success"
    assert load(db, second).status == "pending"
    assert not w2.run_once()  # still nothing claimable: `first` is in progress
    assert w1.run_once()  # `first` finishes
    assert w2.run_once()
    assert [load(db, job).status for job in (first, second, other)] == ["success"] * 3
    ends = [job_id for job_id, _, event in kind.events if event == "end"]
    assert ends == [first, other, first, second]


def test_worker_threads_never_overlap_two_jobs_of_one_queue(
    db: Database,
    workspace_id: uuid.UUID,
    kind: CountingJob,
    registry: JobRegistry,
    settings: Settings,
) -> None:
    serial = [enqueue(db, workspace_id, target=2, sleep=0.02, queue_key="q") for _ in range(4)]
    parallel = [enqueue(db, workspace_id, target=2, sleep=0.02) for _ in range(3)]
    fast = settings.model_copy(update={"job_poll_interval_seconds": 0.01})
    pool = WorkerPool(db, registry, fast, size=3)
    pool.start()
    try:
        wait_until(lambda: all(load(db, job).status == "success" for job in serial + parallel), 60)
    finally:
        pool.stop()
    positions = {
        job: [i for i, event in enumerate(kind.events) if event[0] == job] for job in serial
    }
    spans = [(min(positions[job]), max(positions[job])) for job in serial]
    assert all(earlier[1] < later[0] for earlier, later in pairwise(spans))


def test_an_enqueue_on_a_queue_waits_for_the_open_enqueue_and_sorts_after_it(
    db: Database, workspace_id: uuid.UUID
) -> None:
    def enqueue_in(session: Session) -> uuid.UUID:
        return enqueue_job(
            session,
            workspace_id=workspace_id,
            user_id=None,
            type=COUNTING,
            entity_type="workspace",
            entity_id=None,
            data={},
            state={"target": 1},
            queue_key="assign:x",
        ).id

    later: list[uuid.UUID] = []
    with db.write_sessions() as open_session:
        earlier = enqueue_in(open_session)
        thread = threading.Thread(
            target=lambda: later.append(_in_transaction(db, enqueue_in)), daemon=True
        )
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # held back until the first enqueue commits
        open_session.commit()
    thread.join(10)
    assert len(later) == 1
    assert later[0] > earlier


def test_racing_enqueues_become_visible_in_the_order_of_their_ids(
    db: Database, workspace_id: uuid.UUID
) -> None:
    """What a worker relies on: whenever a job of a queue is visible, so is every job of the
    queue with a smaller id. Threads make their ids and then reach the queue in any order;
    a reader watching the queue meanwhile only ever sees a prefix of the final id order."""
    stop = threading.Event()
    seen: list[list[uuid.UUID]] = []

    def watch() -> None:
        while not stop.is_set():
            with db.read_sessions() as session:
                seen.append(
                    list(
                        session.scalars(
                            select(BackgroundJob.id)
                            .where(BackgroundJob.queue_key == "race")
                            .order_by(BackgroundJob.id)
                        )
                    )
                )

    def enqueue_some(autocommit: bool) -> None:
        for _ in range(15):
            with db.write_sessions() as session:
                if autocommit:
                    write_in_one_statement(session)
                insert_counting_job(session, workspace_id, "race")
                session.commit()

    watcher = threading.Thread(target=watch, daemon=True)
    writers = [threading.Thread(target=enqueue_some, args=(n % 2 == 0,)) for n in range(6)]
    watcher.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    stop.set()
    watcher.join(10)

    with db.read_sessions() as session:
        final = list(
            session.scalars(
                select(BackgroundJob.id)
                .where(BackgroundJob.queue_key == "race")
                .order_by(BackgroundJob.id)
            )
        )
    assert len(final) == len(set(final)) == 90
    assert len(seen) > 1
    assert all(snapshot == final[: len(snapshot)] for snapshot in seen)


def _in_transaction(db: Database, work: Callable[[Session], uuid.UUID]) -> uuid.UUID:
    with db.write_sessions.begin() as session:
        return work(session)


def test_a_new_job_of_a_queue_sorts_after_the_queue_head_even_from_an_earlier_clock(
    db: Database, workspace_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued job whose id is from the far future (another host's clock, the same ms...):
    the queue's next job takes the id after it, in a transaction and without one."""
    future_id = uuid.UUID("ffffffff-ffff-7fff-8000-000000000005")
    monkeypatch.setattr(jobs_service, "new_id", lambda: future_id)
    assert enqueue(db, workspace_id, queue_key="assign:y") == future_id
    monkeypatch.undo()

    assert enqueue(db, workspace_id, queue_key="assign:y") == _after(future_id, 1)
    with db.write_sessions() as session:
        write_in_one_statement(session)
        row = insert_counting_job(session, workspace_id, "assign:y")
        session.commit()
    assert row["id"] == _after(future_id, 2)
    assert load(db, row["id"]).created_at == row["created_at"]
    # Other queues keep their own order.
    assert enqueue(db, workspace_id, queue_key="assign:other") < future_id
    with db.read_sessions() as session:
        query = select(job_queues.c.queue_key, job_queues.c.last_job_id)
        heads = dict(session.execute(query).all())
    assert heads["assign:y"] == _after(future_id, 2)
    assert heads["assign:other"] < future_id


def insert_counting_job(
    session: Session, workspace_id: uuid.UUID, queue_key: str
) -> dict[str, Any]:
    """A one-step counting job queued in ``session`` (committed by the caller)."""
    return jobs_service.insert_job(
        session, workspace_id=workspace_id, user_id=None, type=COUNTING,
        entity_type="workspace", entity_id=None, data={}, state={"target": 1},
        queue_key=queue_key,
    )  # fmt: skip


def _after(job_id: uuid.UUID, steps: int) -> uuid.UUID:
    return uuid.UUID(int=job_id.int + steps)


def test_upgrading_an_existing_database_sets_each_queue_head_to_its_largest_job_id(
    backend: str, tmp_path: Path
) -> None:
    """Migration 0004: finished jobs count too (a queue's order never starts over)."""
    database = Database(create_db_engine(fresh_database_settings(backend, tmp_path)))
    try:
        upgrade_database(database.engine, "0003")
        workspace_id = uuid.uuid4()
        jobs = {  # id -> (queue, status)
            uuid.UUID(int=(7 << 76) | 1): ("q", "success"),
            uuid.UUID(int=(7 << 76) | 3): ("q", "success"),
            uuid.UUID(int=(7 << 76) | 2): ("q", "pending"),
            uuid.UUID(int=(7 << 76) | 4): ("other", "in-progress"),
            uuid.UUID(int=(7 << 76) | 9): (None, "pending"),
        }
        now = utcnow()
        common = {
            "workspace_id": workspace_id, "type": COUNTING, "entity_type": "workspace",
            "data": {}, "state": {}, "progress": 0, "attempts": 0, "cancel_requested": False,
            "run_after": now, "created_at": now, "updated_at": now,
        }  # fmt: skip
        rows = [
            {**common, "id": job_id, "queue_key": queue, "status": status}
            for job_id, (queue, status) in jobs.items()
        ]
        with database.engine.begin() as connection:
            connection.execute(insert(Workspace), {"id": workspace_id, "name": "old"})
            connection.execute(insert(background_jobs), rows)
        upgrade_database(database.engine)
        with database.engine.connect() as connection:
            heads = dict(connection.execute(select(job_queues)).all())
        assert heads == {"q": uuid.UUID(int=(7 << 76) | 3), "other": uuid.UUID(int=(7 << 76) | 4)}
    finally:
        database.dispose()


def test_a_job_row_is_one_statement_that_commits_alone_when_it_is_the_only_write(
    db: Database, workspace_id: uuid.UUID
) -> None:
    """On PostgreSQL a unit of work that writes once runs without a transaction: the job is
    committed as its statement returns. A second write there is a test failure."""
    with db.write_sessions() as session:
        write_in_one_statement(session)
        job_id = insert_counting_job(session, workspace_id, "assign:z")["id"]
        if db.engine.dialect.name == "postgresql":
            driver_connection = session.connection().connection.driver_connection
            assert driver_connection.autocommit is True
            assert driver_connection.info.transaction_status == TransactionStatus.IDLE
            # Visible to another connection before this unit of work ends.
            with db.read_sessions() as other:
                assert other.get(BackgroundJob, job_id) is not None
            with pytest.raises(SecondWriteInSingleWriteSession):
                session.execute(update(BackgroundJob).values(progress=1))
        session.commit()
    assert load(db, job_id).status == "pending"


def test_cancel_stops_pending_at_once_and_running_at_its_next_chunk(
    db: Database,
    workspace_id: uuid.UUID,
    kind: CountingJob,
    registry: JobRegistry,
    settings: Settings,
    finished: Finished,
) -> None:
    running = enqueue(db, workspace_id, target=3)
    waiting = enqueue(db, workspace_id, target=3)
    worker = Worker(db, registry, settings, name="w1")
    assert worker.run_once()

    with db.write_sessions.begin() as session:
        job = cancel_job(session, workspace_id, waiting, registry=registry)
        assert (job.status, job.finished_at is not None) == ("cancelled", True)
    assert finished == [(waiting, "cancelled")]
    with db.write_sessions.begin() as session:
        job = cancel_job(session, workspace_id, running, registry=registry)
        assert (job.status, job.cancel_requested) == ("in-progress", True)

    assert worker.run_once()  # the next chunk cancels instead of counting
    job = load(db, running)
    assert (job.status, job.data["counted"], job.progress) == ("cancelled", 1, 33)
    assert worker.lease is None
    assert finished == [(waiting, "cancelled"), (running, "cancelled")]
    assert not worker.run_once()
    assert kind.chunks_run == 1

    for job_id in (waiting, running):
        with db.write_sessions.begin() as session, pytest.raises(Conflict):
            cancel_job(session, workspace_id, job_id)
    with db.write_sessions.begin() as session, pytest.raises(NotFound):
        cancel_job(session, uuid.uuid4(), running)


def test_stopping_a_worker_finishes_its_chunk_and_releases_the_job(
    db: Database,
    workspace_id: uuid.UUID,
    kind: CountingJob,
    registry: JobRegistry,
    settings: Settings,
) -> None:
    job_id = enqueue(db, workspace_id, target=1000, sleep=0.02)
    stop = threading.Event()
    worker = Worker(db, registry, settings, name="stopping")
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    wait_until(lambda: load(db, job_id).data.get("counted", 0) >= 2)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()

    job = load(db, job_id)
    assert (job.status, job.attempts, job.lease_token, job.lease_expires_at) == (
        "pending",
        0,
        None,
        None,
    )
    assert job.run_after <= utcnow()
    counted = job.data["counted"]
    assert kind.chunks_run == counted == job.state["counted"]  # the last chunk was kept

    successor = Worker(db, registry, settings, name="successor")
    assert successor.run_once()
    job = load(db, job_id)
    assert (job.status, job.lease_owner, job.data["counted"]) == (
        "in-progress",
        "successor",
        counted + 1,
    )


def test_finish_listeners_run_in_the_transaction_that_finishes_the_job(
    db: Database,
    workspace_id: uuid.UUID,
    registry: JobRegistry,
    settings: Settings,
    finished: Finished,
) -> None:
    def refuse_success(_session: Session, job: BackgroundJob) -> None:
        if job.status == "success":
            raise RuntimeError("listener down")

    registry.add_finish_listener(refuse_success)
    job_id = enqueue(db, workspace_id, target=2, max_attempts=1)
    run_until_idle(db, registry, settings)
    job = load(db, job_id)
    # The last chunk and the move to success were rolled back together with the listener.
    assert (job.status, job.data["counted"], job.progress) == ("failed", 1, 50)
    assert job.data["error"] == "RuntimeError: listener down"
    assert finished == [(job_id, "success"), (job_id, "failed")]


def test_a_worker_claims_only_the_kinds_it_knows(
    db: Database, workspace_id: uuid.UUID, settings: Settings
) -> None:
    job_id = enqueue(db, workspace_id, target=1)
    assert run_until_idle(db, JobRegistry(), settings) == 0
    assert load(db, job_id).status == "pending"


class InPlaceCounter:
    """A kind that updates the job's own ``data`` and ``state`` dicts instead of copies."""

    type = "test-in-place"

    def run_chunk(self, _session: Session, job: BackgroundJob) -> ChunkOutcome:
        job.state["counted"] = job.state.get("counted", 0) + 1
        job.data["counted"] = job.state["counted"]
        done = job.state["counted"] >= 2
        return ChunkOutcome(data=job.data, state=job.state, progress=50, finished=done)


def test_a_kind_may_update_the_jobs_dicts_in_place(
    db: Database, workspace_id: uuid.UUID, settings: Settings
) -> None:
    registry = JobRegistry()
    registry.register(InPlaceCounter())
    with db.write_sessions.begin() as session:
        job_id = enqueue_job(
            session,
            workspace_id=workspace_id,
            user_id=None,
            type=InPlaceCounter.type,
            entity_type="workspace",
            entity_id=None,
            data={},
            state={},
        ).id
    worker = Worker(db, registry, settings, name="w1")
    assert worker.run_once()
    job = load(db, job_id)
    assert (job.data, job.state, job.progress) == ({"counted": 1}, {"counted": 1}, 50)
    assert worker.run_once()
    assert (load(db, job_id).status, load(db, job_id).data) == ("success", {"counted": 2})


ENQUEUE_BEFORE_THE_OTHER_MODELS = """
import sys
from sqlalchemy import select
from sqlalchemy.orm import Session
import leadroute.jobs.service as jobs  # first: `workspaces` is not declared yet
from leadroute.db.engine import create_db_engine
from leadroute.db.migrate import upgrade_database
from leadroute.settings import Settings
from leadroute.workspaces.service import create_workspace

engine = create_db_engine(Settings(database_url=sys.argv[1]))
upgrade_database(engine)
with Session(engine) as session, session.begin():
    workspace = create_workspace(session, name="w", owner_email="o@w.test").workspace_id
    jobs.enqueue_job(
        session, workspace_id=workspace, user_id=None, type="t", entity_type="workspace",
        entity_id=None, data={}, state={}, queue_key="q",
    )
with engine.connect() as connection:
    stored = connection.execute(select(jobs.background_jobs.c.workspace_id)).scalar_one()
print(stored == workspace)
"""


def test_a_queued_job_can_be_enqueued_by_a_process_that_imported_the_jobs_first(
    tmp_path: Path,
) -> None:
    """A statement built on import takes its bind types from its columns: a foreign-key
    column left untyped until its target table is declared would hand SQLite a UUID object
    as is (a 500). The models type every foreign-key column where they declare it."""
    done = subprocess.run(
        [sys.executable, "-c", ENQUEUE_BEFORE_THE_OTHER_MODELS, f"sqlite:///{tmp_path}/w.db"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
