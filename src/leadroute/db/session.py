"""One unit of work per request: the session commits when the handler returns."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from leadroute.db.engine import read_only

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def get_session(request: Request) -> Iterator[Session]:
    database = get_database(request)
    factory = database.read_sessions if request.method in SAFE_METHODS else database.write_sessions
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": commit before the response is sent, so a 2xx means the write is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
