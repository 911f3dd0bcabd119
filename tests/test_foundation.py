"""The ground the service stands on: settings, the two engines, migrations, the CLI."""

import gc
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import weakref
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from leadroute.app import create_app
from leadroute.db.checkpoint import WalCheckpointer
from leadroute.db.engine import create_db_engine
from leadroute.db.session import Database
from leadroute.db.write_lock import FairLock
from leadroute.ids import format_timestamp
from leadroute.models import Base
from leadroute.runtime import freeze_startup_objects, serve_hooks, wal_checkpointer
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient, WriteInReadOnlySession


def test_settings_come_from_leadroute_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADROUTE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("LEADROUTE_JOB_CHUNK_SIZE", "123")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.job_chunk_size == 123
    monkeypatch.delenv("LEADROUTE_DATABASE_URL")
    assert Settings().database_url == "sqlite:///./leadroute.db"


# Created by hand in migrations 0002 and 0003: the models cannot declare them portably.
EXPRESSION_INDEXES = {"ix_lead_search_search_text_trgm", "ix_leads_workspace_id_email"}


def test_migrations_create_exactly_the_schema_of_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    unexpected = [
        difference
        for difference in differences
        if not (difference[0] == "remove_index" and difference[1].name in EXPRESSION_INDEXES)
    ]
    assert unexpected == []
    with database.engine.connect() as connection:
        version = connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert version is not None


MODEL_MODULES = sorted(
    f"leadroute.{path.parent.name}.models"
    for path in Path(__file__).parent.parent.joinpath("src", "leadroute").glob("*/models.py")
)
UNTYPED_FOREIGN_KEYS = """
import sys
from sqlalchemy.types import NullType
from leadroute.db.base import Base
__import__(sys.argv[1])
print(sorted(
    f"{table.name}.{column.name}"
    for table in Base.metadata.tables.values()
    for column in table.columns
    if column.foreign_keys and isinstance(column.type, NullType)
))
"""


@pytest.mark.parametrize("module", MODEL_MODULES)
def test_every_foreign_key_column_is_typed_where_it_is_declared(module: str) -> None:
    """Imported alone, before the tables it refers to exist, a model's foreign-key columns
    already have their type. SQLAlchemy gives an untyped one the type of its target only
    once that table is declared, so a statement built earlier (at import) typed its bind
    parameters as nothing, and SQLite was handed a UUID object: a 500."""
    done = subprocess.run(
        [sys.executable, "-c", UNTYPED_FOREIGN_KEYS, module],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_sqlite_runs_in_wal_mode_and_writers_take_the_lock_at_begin(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/lock.db", sqlite_busy_timeout_ms=250)
    database = Database(create_db_engine(settings))
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 250
    other = sqlite3.connect(f"{tmp_path}/lock.db", timeout=0, isolation_level=None)
    with database.write_sessions() as session:
        session.execute(select(1))  # a read, but in a write unit of work: the lock is taken
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        session.rollback()
    with database.read_sessions() as session:
        session.execute(select(1))
        other.execute("BEGIN IMMEDIATE")  # readers never hold the write lock
        other.execute("ROLLBACK")
        session.rollback()
    other.close()
    database.dispose()


@pytest.mark.engine("postgresql")
def test_postgresql_reads_send_no_transaction_and_the_next_write_gets_one(
    settings: Settings,
) -> None:
    """A read-only unit of work runs in autocommit (no BEGIN, no COMMIT); the same pooled
    connection is transactional again for the write unit of work that takes it next."""
    database = Database(create_db_engine(settings, pool_size=1, max_overflow=0))
    try:
        with database.read_sessions() as session:
            assert session.execute(select(1)).scalar() == 1
            reader = session.connection().connection.driver_connection
            assert reader.autocommit is True
            assert reader.info.transaction_status == TransactionStatus.IDLE
        with database.write_sessions() as session:
            session.execute(text("CREATE TEMPORARY TABLE scratch (n int)"))
            writer = session.connection().connection.driver_connection
            assert writer is reader
            assert writer.autocommit is False
            assert writer.info.transaction_status == TransactionStatus.INTRANS
            session.rollback()
        with database.read_sessions() as session:
            # The rollback took the table with it: the write was one transaction.
            assert session.scalar(text("SELECT to_regclass('pg_temp.scratch')")) is None
    finally:
        database.dispose()


@pytest.mark.engine("postgresql")
def test_the_suite_fails_a_write_in_a_read_only_unit_of_work(db: Database) -> None:
    """The check every test runs under (tests/conftest.py) would catch a read endpoint that
    writes, whose statements would otherwise commit one by one."""
    with db.read_sessions() as session:
        with pytest.raises(WriteInReadOnlySession):
            session.execute(text("UPDATE workspaces SET name = name"))
        with pytest.raises(WriteInReadOnlySession):
            session.execute(select(Base.metadata.tables["workspaces"]).with_for_update())
        assert session.execute(select(1)).scalar() == 1


def test_the_fair_lock_serves_writers_in_arrival_order() -> None:
    lock = FairLock()
    assert lock.acquire(timeout=1)
    order: list[int] = []
    started: list[threading.Event] = []

    def writer(number: int) -> None:
        assert lock.acquire(timeout=10)
        order.append(number)
        lock.release()

    threads = []
    for number in range(5):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        threads.append(thread)
        started.append(threading.Event())
        time.sleep(0.05)  # let each one queue before the next arrives
    lock.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    assert lock.acquire(timeout=0.1)
    lock.release()


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_the_next_sqlite_writer_is_let_in_only_once_the_transaction_has_ended(
    tmp_path: Path, end: str
) -> None:
    """A writer handed the queue must find SQLite's lock free: if it were let in before the
    COMMIT (or ROLLBACK) ran, it would sleep in SQLite's busy handler while the database
    sat idle. Here its busy timeout is 0, so a too-early handover fails it outright."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/queue.db")
    database = Database(create_db_engine(settings))
    first_is_ending = threading.Event()

    @event.listens_for(database.engine, end)
    def slow_end(_connection: Any) -> None:
        # SQLAlchemy calls this just before it sends the COMMIT / ROLLBACK.
        if not first_is_ending.is_set():
            first_is_ending.set()
            time.sleep(0.3)

    outcome: list[object] = []

    def second_writer() -> None:
        with database.engine.connect() as connection:
            connection.connection.driver_connection.execute("PRAGMA busy_timeout=0")
            first_is_ending.wait(10)
            try:
                connection.execute(text("SELECT 1"))  # BEGIN IMMEDIATE, after the queue
                outcome.append("got the lock")
            except Exception as error:
                outcome.append(error)
            connection.rollback()

    with database.engine.connect() as first:
        first.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: holds the queue and the lock
        thread = threading.Thread(target=second_writer)
        thread.start()
        first.commit() if end == "commit" else first.rollback()
    event.remove(database.engine, end, slow_end)
    thread.join(timeout=10)
    assert outcome == ["got the lock"]
    database.dispose()


def test_a_waiter_that_times_out_leaves_the_queue() -> None:
    lock = FairLock()
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.05)
    lock.release()
    assert lock.acquire(timeout=0.05)


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEADROUTE_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "leadroute", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_workspace_create_prints_a_working_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    created = run_cli(
        "workspace", "create", "Acme", "--owner-email", "Boss@Acme.io", "--json", database_url=url
    )
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)
    assert set(body) == {"workspace_id", "owner_user_id", "api_key"}

    from fastapi.testclient import TestClient

    from leadroute.app import create_app

    settings = Settings(database_url=url, rate_limit_enabled=False)
    client = TestClient(create_app(settings))
    current = client.get(
        "/api/v2/workspaces/current", headers={"Authorization": f"Bearer {body['api_key']}"}
    )
    assert current.status_code == 200
    assert current.json()["name"] == "Acme"
    assert current.json()["owner"] == body["owner_user_id"]


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/upgrade.db"
    upgraded = run_cli("db", "upgrade", database_url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(f"{tmp_path}/upgrade.db") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {
        "workspaces",
        "users",
        "workspace_members",
        "api_keys",
        "lead_lists",
        "campaigns",
        "lead_labels",
        "leads",
        "background_jobs",
    } <= tables


def test_serve_on_an_empty_database_creates_workspace_default_and_prints_its_key_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/serve.db"
    port = _free_port()

    def start(**environment: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "leadroute", "serve", "--port", str(port)],
            env={**os.environ, "LEADROUTE_DATABASE_URL": url, **environment},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    server = start()
    try:
        key = _wait_for_key(server)
        _wait_until_serving(port)
        current = httpx.get(
            f"http://127.0.0.1:{port}/api/v2/workspaces/current",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert current.status_code == 200
        assert current.json()["name"] == "Default"
    finally:
        server.terminate()
        first, _ = server.communicate(timeout=30)
    assert '"GET /api/v2/workspaces/current HTTP/1.1" 200' in first  # the access log
    second = start(LEADROUTE_ACCESS_LOG="false")
    try:
        _wait_until_serving(port)
        httpx.get(f"http://127.0.0.1:{port}/api/v2/workspaces/current")
    finally:
        second.terminate()
        again, _ = second.communicate(timeout=30)
    assert "Created workspace" not in again
    assert key not in again
    assert "Application startup complete" in again
    assert "HTTP/1.1" not in again  # no access log


def test_freezing_start_up_objects_keeps_them_out_of_collections_but_not_later_garbage() -> None:
    """``serve`` and ``worker`` freeze what start-up built, so a full collection under load
    walks only what was made since (docs/benchmarks.md: pauses of ~70 ms became ~7 ms)."""

    class Node:
        other: "Node"

    try:
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # this process's modules, classes and functions
        assert len(gc.get_objects(generation=2)) < frozen

        made_later, partner = Node(), Node()
        made_later.other, partner.other = partner, made_later  # a cycle: only gc frees it
        gone = weakref.ref(made_later)
        del made_later, partner
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_key(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        found = re.search(r"\b(lr_[A-Za-z0-9_\-]{20,})", line)
        if found:
            return found.group(1)
    raise AssertionError("serve printed no API key")


def _wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not start")


def test_a_read_sent_as_post_does_not_wait_for_the_sqlite_write_lock(
    backend: str, api: Any, database: Database, settings: Settings
) -> None:
    """``POST /leads/list`` only reads: it must answer while a writer holds the lock."""
    if backend != "sqlite":
        # On PostgreSQL nothing takes a database-wide write lock; the call just answers.
        assert api.post("/api/v2/leads/list", json={}).status_code == 200
        return
    path = settings.database_url.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        listed = api.post("/api/v2/leads/list", json={"limit": 5})
        elapsed = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert listed.status_code == 200, listed.text
    assert elapsed < 1.0


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (datetime(2026, 11, 28, 8, 40, 18, 123456, tzinfo=UTC), "2026-11-28T08:40:18.123Z"),
        (datetime(2026, 11, 28, 8, 40, 18, 999999), "2026-11-28T08:40:18.999Z"),  # naive: UTC
        (
            datetime(2026, 11, 28, 10, 40, 18, tzinfo=timezone(timedelta(hours=2))),
            "2026-11-28T08:40:18.000Z",
        ),
        (datetime(999, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), "0999-01-02T03:04:05.006Z"),
    ],
)
def test_timestamps_go_out_as_utc_iso_8601_with_milliseconds(value: datetime, wire: str) -> None:
    assert format_timestamp(value) == wire


def test_sqlite_commits_checkpoint_only_past_the_configured_log_size(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/wal.db")
    database = Database(create_db_engine(settings))
    with database.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        connection.rollback()
    assert pages == settings.sqlite_wal_autocheckpoint_pages == 16_384
    database.dispose()


def _fill_log(database: Database, rows: int) -> None:
    with database.write_sessions() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS filler (body TEXT)"))
        session.execute(
            text("INSERT INTO filler (body) VALUES (:body)"), [{"body": "x" * 2000}] * rows
        )
        session.commit()


def test_the_checkpointer_copies_the_log_back_without_waiting_for_a_writer(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/wal.db")
    database = Database(create_db_engine(settings))
    _fill_log(database, 500)  # ~1 MB: under the threshold, so no commit checkpointed it
    file_before = (tmp_path / "wal.db").stat().st_size
    writer = sqlite3.connect(f"{tmp_path}/wal.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer holds the lock throughout
    started = time.monotonic()
    busy, frames, checkpointed = WalCheckpointer(database.engine, 1.0).checkpoint()
    assert time.monotonic() - started < 1.0
    writer.execute("ROLLBACK")
    writer.close()
    assert (busy, checkpointed) == (0, frames)
    assert frames > 200
    assert (tmp_path / "wal.db").stat().st_size > file_before + 900_000
    database.dispose()


def test_serve_runs_the_checkpointer_thread_with_the_app_on_sqlite(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/wal.db",
        embedded_workers=0,
        sqlite_checkpoint_interval_seconds=0.05,
    )
    database = Database(create_db_engine(settings))
    _fill_log(database, 500)
    file_before = (tmp_path / "wal.db").stat().st_size
    start, stop = serve_hooks(settings, database)
    assert start is not None
    assert stop is not None
    app = FastAPI()
    start(app)
    running = [thread.name for thread in threading.enumerate()]
    deadline = time.monotonic() + 5
    while (tmp_path / "wal.db").stat().st_size <= file_before and time.monotonic() < deadline:
        time.sleep(0.02)
    stop(app)
    assert "sqlite-wal-checkpointer" in running
    assert "sqlite-wal-checkpointer" not in [thread.name for thread in threading.enumerate()]
    assert (tmp_path / "wal.db").stat().st_size > file_before + 900_000
    database.dispose()


def test_there_is_no_checkpointer_on_postgresql_or_when_turned_off() -> None:
    database = Database(create_db_engine(Settings(database_url="sqlite://")))
    off = Settings(database_url="sqlite:///x.db", sqlite_checkpoint_interval_seconds=0)
    postgres = Settings(database_url="postgresql+psycopg://u@h/db")
    assert wal_checkpointer(off, database) is None
    assert wal_checkpointer(postgres, database) is None
    database.dispose()


@pytest.mark.engine("postgresql")
def test_requests_after_the_server_closed_every_pooled_connection_are_answered(
    workspace: WorkspaceClient, settings: Settings
) -> None:
    """A PostgreSQL restart, failover or idle timeout closes the pool's idle connections; the
    next requests get new ones instead of a 500."""
    name = f"lr_hangup_{uuid.uuid4().hex[:12]}"
    url = make_url(settings.database_url).update_query_dict({"application_name": name})
    database = Database(
        create_db_engine(settings.model_copy(update={"database_url": url.render_as_string(False)}))
    )
    api = TestClient(create_app(settings, database=database), raise_server_exceptions=False)
    api.headers["Authorization"] = f"Bearer {workspace.api_key}"
    pooled = [database.engine.connect() for _ in range(4)]
    for connection in pooled:
        connection.execute(text("SELECT 1"))
    for connection in pooled:
        connection.close()
    assert database.engine.pool.checkedin() == 4  # type: ignore[attr-defined]
    admin = create_engine(make_url(settings.database_url), isolation_level="AUTOCOMMIT")
    backends = "FROM pg_stat_activity WHERE application_name = :name"
    with admin.connect() as connection:
        killed = connection.execute(
            text(f"SELECT count(pg_terminate_backend(pid)) {backends}"), {"name": name}
        ).scalar_one()
        assert killed == 4
        deadline = time.monotonic() + 10
        while connection.execute(text(f"SELECT count(*) {backends}"), {"name": name}).scalar():
            assert time.monotonic() < deadline, "the backends did not exit"
            time.sleep(0.01)
    admin.dispose()

    statuses = [api.get("/api/v2/workspaces/current").status_code for _ in range(3)]
    statuses += [
        api.post("/api/v2/leads", json={"email": f"l{number}@hangup.test"}).status_code
        for number in range(3)
    ]
    assert statuses == [200] * 6
    created = api.post("/api/v2/leads/list", json={"limit": 10}).json()["items"]
    assert sorted(lead["email"] for lead in created) == [f"l{n}@hangup.test" for n in range(3)]
    database.dispose()
