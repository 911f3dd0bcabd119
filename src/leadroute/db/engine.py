"""Engines for the two supported databases, configured the way leadroute needs them.

SQLite is the embedded default: WAL so readers never wait for the writer, a busy timeout so
writers queue instead of failing, and write transactions that take the write lock at BEGIN
(``BEGIN IMMEDIATE``) so two writers never deadlock upgrading a shared lock, queued
first-come first-served within the process (:mod:`leadroute.db.write_lock`). Read-only
units of work use :func:`read_only`: a plain deferred transaction on SQLite, no transaction
at all on PostgreSQL.
PostgreSQL goes through psycopg 3, and a connection the server has closed never leaves the
pool (:func:`discard_if_server_hung_up`).
"""

import select
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError

from leadroute.db.write_lock import FairLock
from leadroute.settings import Settings

SQLITE_BEGIN_OPTION = "leadroute_sqlite_begin"
# Each SQLite connection's page cache, at most (``PRAGMA cache_size``, KiB).
SQLITE_CACHE_KIB = 64 * 1024
WRITE_LOCK_HELD = "leadroute_write_lock_held"
# Marks the connections of PostgreSQL's read-only units of work (:func:`read_only`).
READ_ONLY_OPTION = "leadroute_read_only"
# Marks the connections of PostgreSQL's units of work that write in one statement at most
# (``leadroute.db.session.write_in_one_statement``).
SINGLE_WRITE_OPTION = "leadroute_single_write"


def normalize_database_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def create_db_engine(settings: Settings, **engine_options: Any) -> Engine:
    url = normalize_database_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, settings, **engine_options)
    if url.get_backend_name() == "postgresql":
        return _create_postgresql_engine(url, **engine_options)
    raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")


def _create_postgresql_engine(url: URL, **engine_options: Any) -> Engine:
    engine_options.setdefault("pool_size", 10)
    engine_options.setdefault("max_overflow", 20)
    engine = create_engine(url, **engine_options)
    if not engine_options.get("pool_pre_ping"):
        event.listen(engine.pool, "checkout", discard_if_server_hung_up)
    return engine


def discard_if_server_hung_up(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection that the server has closed (a restart, a failover,
    ``pg_terminate_backend``, an idle timeout): the pool replaces it and the request goes on.

    This replaces ``pool_pre_ping``, whose ``SELECT 1`` cost every request a round trip to
    the server and 3 to 4% of the instructions of an authenticated GET (``python -m
    bench.instructions --pre-ping``, docs/benchmarks.md). A server that ends a connection
    says so first (an error message, then end-of-file), so an idle connection whose socket
    is readable is one to drop. A healthy connection has nothing to say between
    transactions: leadroute never ``LISTEN``s, and at worst a stray notice costs one new
    connection. A connection lost without a word (a network partition) would hang a
    ``SELECT 1`` as long as the request's own statement.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    poller = select.poll()
    poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection while it was idle")


def _create_sqlite_engine(url: URL, settings: Settings, **engine_options: Any) -> Engine:
    timeout_seconds = settings.sqlite_busy_timeout_ms / 1000
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": timeout_seconds},
        **engine_options,
    )

    @event.listens_for(engine, "connect")
    def configure_connection(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below; the driver's own
        # implicit BEGIN would always be deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={settings.sqlite_busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={settings.sqlite_wal_autocheckpoint_pages}")
        # A bulk job's chunk (10,000 leads) reads and rewrites ~10 MB of table and index
        # pages; with SQLite's default 2 MB page cache it re-reads and spills them several
        # times per chunk (docs/benchmarks.md). The cache grows only as pages are used, so
        # connections that serve single-lead requests stay small.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # Temporary tables (a chunk's scratch rows) stay in memory, never in a temp file.
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    writers = FairLock()
    timeout_seconds = settings.sqlite_busy_timeout_ms / 1000

    @event.listens_for(engine, "begin")
    def begin_transaction(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        if mode == "IMMEDIATE":
            if not writers.acquire(timeout_seconds):
                raise OperationalError(
                    "BEGIN IMMEDIATE", None, Exception("database is locked: writer queue timed out")
                )
            connection.info[WRITE_LOCK_HELD] = True
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release_writer(connection.info, writers)
            raise

    # The queue's next writer is let in once the COMMIT or ROLLBACK has run, not before:
    # SQLAlchemy's "commit" and "rollback" events fire before the statement, and a writer let
    # in then found SQLite still locked and slept in its busy handler (1, 2, 5, 10 ms...),
    # holding the queue while the database sat free. With 12 clients sending bulk-assigns
    # back to back, releasing here took one process from about 290 to 305-310 accepts a
    # second. The dialect is this engine's own, so the override touches no other engine.
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def commit_then_release(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            _release_writer_of(dbapi_connection, writers)

    def rollback_then_release(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            _release_writer_of(dbapi_connection, writers)

    dialect.do_commit = commit_then_release  # type: ignore[method-assign]
    dialect.do_rollback = rollback_then_release  # type: ignore[method-assign]

    @event.listens_for(engine.pool, "reset")
    def release_on_reset(_dbapi_connection: Any, record: Any, _reset_state: Any) -> None:
        # A connection returned to the pool without commit or rollback (a dead thread, an
        # invalidated connection) must not keep the queue waiting.
        _release_writer(record.info, writers)

    return engine


def _release_writer_of(connection: Any, writers: FairLock) -> None:
    """Release for a pool connection (its ``info`` is its pool record's, as in "begin")."""
    try:
        info = connection.info
    except NotImplementedError:  # the dialect's first-connect probe: it never held the lock
        return
    _release_writer(info, writers)


def _release_writer(info: dict[str, Any], writers: FairLock) -> None:
    if info.pop(WRITE_LOCK_HELD, False):
        writers.release()


def read_only(engine: Engine) -> Engine:
    """The same engine and pool, for units of work that only read.

    SQLite: transactions begin without the write lock. PostgreSQL: the connection is in
    autocommit mode, so each statement runs alone and the unit of work sends no ``BEGIN``
    and no ``COMMIT``, two of a single-read request's three round trips. That reads nothing
    differently: under READ COMMITTED, PostgreSQL's default and leadroute's, every statement
    of a transaction takes a snapshot of its own anyway. A unit of work that writes must not
    use it: its statements would commit one by one (the test suite fails any such write).
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
    return engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY_OPTION: True})
