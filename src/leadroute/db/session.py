"""One unit of work per request: the session commits when the handler returns.

A sync endpoint commits in its own worker thread as it returns (``leadroute.routing``); this
dependency commits whatever is still open (an ``async`` endpoint's work), rolls back on an
error and closes the session. It is an ``async`` generator so that making and closing a
session, which touch no database, cost no hop through the thread pool.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from leadroute.db.engine import SINGLE_WRITE_OPTION, read_only

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_MARK = "__leadroute_read_only__"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def read_only_endpoint(endpoint: Endpoint) -> Endpoint:
    """Mark a POST endpoint that only reads (``/leads/list``): it gets a read session.

    On SQLite a write unit of work takes the database's write lock at its start, so a read
    sent as POST would otherwise wait behind every job chunk.
    """
    setattr(endpoint, READ_ONLY_MARK, True)
    return endpoint


def write_in_one_statement(session: Session) -> None:
    """Declare that this unit of work, not begun yet, writes in one statement at most.

    On PostgreSQL it then runs without a transaction (autocommit), as a read-only one does
    (:func:`leadroute.db.engine.read_only`): its one write commits by itself, and it sends
    no ``BEGIN`` and no ``COMMIT``, two round trips of an accepted bulk-assign's five. Its
    reads read what they would in a transaction under READ COMMITTED, where every statement
    takes its own snapshot. SQLite: nothing changes; its transaction takes the write lock at
    ``BEGIN``, which an autocommit write would take anyway. The test suite fails a second
    write in such a unit of work.
    """
    if session.in_transaction():
        raise RuntimeError("write_in_one_statement: the unit of work has already begun")
    if session.get_bind().dialect.name == "postgresql":
        session.connection(
            execution_options={"isolation_level": "AUTOCOMMIT", SINGLE_WRITE_OPTION: True}
        )


class Database:
    """The engine and the two session factories every unit of work is made from."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_sessions = sessionmaker(engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(read_only(engine), expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[Session]:
    database = get_database(request)
    reads_only = request.method in SAFE_METHODS or getattr(
        request.scope.get("endpoint"), READ_ONLY_MARK, False
    )
    factory = database.read_sessions if reads_only else database.write_sessions
    session = factory()
    try:
        yield session
        if session.in_transaction():
            await run_in_threadpool(session.commit)
    except BaseException:
        if session.in_transaction():
            await run_in_threadpool(session.rollback)
        raise
    finally:
        # Without a transaction the session holds no connection: closing it is bookkeeping.
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


# scope="function": commit before the response is sent, so a 2xx means the write is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
