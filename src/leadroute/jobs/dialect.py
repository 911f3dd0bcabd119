"""Where the job engine's SQL differs between PostgreSQL and SQLite: one small function each.

SQLite needs less: leadroute begins every SQLite write transaction with ``BEGIN IMMEDIATE``,
so a writer already holds the database's only write lock for its whole transaction.
"""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from leadroute.ids import utcnow


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


DATABASE_NOW = select(func.now())


def database_now(session: Session) -> datetime:
    """The clock every job timestamp is taken from.

    On PostgreSQL it is the server's (its transaction start time), so leases compare
    correctly between workers on hosts whose clocks disagree. SQLite lives on one host.
    """
    if is_postgresql(session):
        now: datetime | None = session.scalar(DATABASE_NOW)
        assert now is not None
        return now
    return utcnow()


def claim_target(
    session: Session, claimable_ids: Select[uuid.UUID]
) -> ColumnElement[uuid.UUID] | uuid.UUID | None:
    """What the claiming UPDATE's ``id = ...`` compares to (None: nothing to claim).

    PostgreSQL: the first claimable id, selected ``FOR UPDATE SKIP LOCKED`` so concurrent
    workers each lock a different job instead of queueing behind one another. SQLite: the
    select itself, as a subquery of the one ``UPDATE ... RETURNING`` statement.
    """
    if is_postgresql(session):
        return session.scalar(claimable_ids.with_for_update(skip_locked=True))
    return claimable_ids.scalar_subquery()
