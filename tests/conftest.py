"""Fixtures: the same tests run against SQLite and PostgreSQL, through the real app.

``LEADROUTE_TEST_BACKENDS`` (default ``sqlite,postgresql``) picks the engines;
``LEADROUTE_TEST_PG_URL`` names the PostgreSQL server and database (created if missing).
Each session migrates a fresh database with Alembic; each test starts from empty tables.
"""

import os
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from leadroute.app import create_app
from leadroute.db.engine import READ_ONLY_OPTION, SINGLE_WRITE_OPTION, create_db_engine
from leadroute.db.migrate import upgrade_database
from leadroute.db.session import Database
from leadroute.models import Base
from leadroute.settings import Settings
from leadroute.workspaces.service import CreatedWorkspace, create_workspace

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/leadroute_test"


def selected_backends() -> list[str]:
    raw = os.environ.get("LEADROUTE_TEST_BACKENDS", "sqlite,postgresql")
    return [name.strip() for name in raw.split(",") if name.strip()]


def postgres_url() -> str:
    return os.environ.get("LEADROUTE_TEST_PG_URL", DEFAULT_PG_URL)


def recreate_postgres_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": target.database},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def fresh_database_settings(backend: str, tmp_path: Path) -> Settings:
    """Settings of an empty database of its own, for a test that migrates one step by step."""
    if backend == "sqlite":
        return Settings(database_url=f"sqlite:///{tmp_path}/migrate.db")
    url = make_url(postgres_url())
    url = url.set(database=f"{url.database}_migrate")
    rendered = url.render_as_string(hide_password=False)
    recreate_postgres_database(rendered)
    return Settings(database_url=rendered)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine(name): the test is about one engine's behaviour (pg_terminate_backend, SQLite's "
        "write lock); it is collected for that engine only",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) an ``engine``-marked test's runs on the other engine."""
    kept, deselected = [], []
    for item in items:
        marker = item.get_closest_marker("engine")
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("backend") if callspec is not None else None
        if marker is not None and engine is not None and engine != marker.args[0]:
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session", params=selected_backends())
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def base_settings(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "leadroute.db"
        url = f"sqlite:///{path}"
    else:
        url = postgres_url()
        recreate_postgres_database(url)
    return Settings(
        database_url=url,
        embedded_workers=0,
        rate_limit_enabled=False,
        job_chunk_size=1000,
    )


def _writes(statement: str, context: Any) -> bool:
    """Whether a statement writes, or takes a lock that lasts until its transaction ends."""
    sql = " ".join(statement.split()).upper()
    return (
        (context is not None and (context.isinsert or context.isupdate or context.isdelete))
        or not sql.startswith(("SELECT", "WITH"))
        or " FOR UPDATE" in sql
        or "_XACT_LOCK" in sql
    )


class WriteInReadOnlySession(AssertionError):
    """A read-only unit of work wrote: on PostgreSQL each of its statements commits alone."""


def fail_writes_in_read_only_sessions(engine: Engine) -> None:
    """Make any write, row lock or transaction-scoped lock on a read-only connection raise.

    PostgreSQL's read sessions run in autocommit (:func:`leadroute.db.engine.read_only`), so
    a unit of work that writes through one would commit statement by statement. Every test
    on the shared ``database`` runs with this check.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def check(
        connection: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if not connection.get_execution_options().get(READ_ONLY_OPTION):
            return
        if _writes(statement, context):
            raise WriteInReadOnlySession(f"a read-only unit of work ran: {statement[:200]}")


class SecondWriteInSingleWriteSession(AssertionError):
    """A unit of work declared to write once wrote again: its writes would not be atomic."""


def fail_second_writes_in_single_write_sessions(engine: Engine) -> None:
    """Make a second write raise in a unit of work that declared one at most
    (:func:`leadroute.db.session.write_in_one_statement`): on PostgreSQL it runs in
    autocommit, so two writes would commit one by one. A statement that changed no row is
    no write. Every test on the shared ``database`` runs with this check."""
    writes: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    @event.listens_for(engine, "after_cursor_execute")
    def check(
        connection: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if not connection.get_execution_options().get(SINGLE_WRITE_OPTION):
            return
        if not _writes(statement, context) or cursor.rowcount == 0:
            return
        writes[connection] = writes.get(connection, 0) + 1
        if writes[connection] > 1:
            raise SecondWriteInSingleWriteSession(
                f"a unit of work declared to write once wrote again: {statement[:200]}"
            )


@pytest.fixture(scope="session")
def database(base_settings: Settings) -> Iterator[Database]:
    database = Database(create_db_engine(base_settings))
    upgrade_database(database.engine)
    fail_writes_in_read_only_sessions(database.engine)
    fail_second_writes_in_single_write_sessions(database.engine)
    yield database
    database.dispose()


def empty_all_tables(database: Database) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def db(database: Database) -> Database:
    """The session's database, emptied before the test."""
    empty_all_tables(database)
    return database


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings


@pytest.fixture
def app(db: Database, settings: Settings) -> Any:
    return create_app(settings, database=db)


@dataclass
class WorkspaceClient:
    """A workspace and a TestClient that sends its owner key."""

    workspace_id: str
    owner_user_id: str
    api_key: str
    client: TestClient


def make_workspace(app: Any, db: Database, name: str, owner_email: str) -> WorkspaceClient:
    with db.write_sessions.begin() as session:
        created: CreatedWorkspace = create_workspace(session, name=name, owner_email=owner_email)
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {created.api_key}"
    return WorkspaceClient(
        workspace_id=str(created.workspace_id),
        owner_user_id=str(created.owner_user_id),
        api_key=created.api_key,
        client=client,
    )


@pytest.fixture
def workspace(app: Any, db: Database) -> WorkspaceClient:
    return make_workspace(app, db, "Acme", "owner@acme.test")


@pytest.fixture
def other_workspace(app: Any, db: Database) -> WorkspaceClient:
    return make_workspace(app, db, "Globex", "owner@globex.test")


@pytest.fixture
def api(workspace: WorkspaceClient) -> TestClient:
    """A client authenticated as the owner of workspace Acme."""
    return workspace.client


@pytest.fixture
def anonymous(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec"
