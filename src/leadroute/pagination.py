"""Cursor pagination shared by every list endpoint.

Pages are keyset pages over a unique, ordered column (the id, a UUIDv7): the page after
``starting_after`` is the rows whose key is greater, so a page costs the same at row ten as
at row ten million.
"""

import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import QueryableAttribute, Session

T = TypeVar("T")
Row = TypeVar("Row")
Item = TypeVar("Item")

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
StartingAfter = Annotated[uuid.UUID | None, Query()]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_starting_after: str | None = Field(
        default=None,
        exclude_if=lambda cursor: cursor is None,
        description="Absent on the last page; pass it as `starting_after`.",
    )


def fetch_page(
    session: Session,
    statement: Select[Row],
    key: ColumnElement[Any] | QueryableAttribute[Any],
    *,
    limit: int,
    starting_after: Any | None,
) -> tuple[Sequence[Row], Any | None]:
    """Rows of one page in ascending key order, and the cursor of the next page (or None)."""
    rows = session.scalars(_page_statement(statement, key, limit, starting_after)).all()
    name = _key_name(key)
    return _cut(rows, limit, lambda row: getattr(row, name))


def fetch_record_page(
    session: Session,
    statement: Select[Any],
    key: ColumnElement[Any],
    *,
    limit: int,
    starting_after: Any | None,
) -> tuple[Sequence[dict[str, Any]], Any | None]:
    """:func:`fetch_page` for a Core select of a table's columns: each row a plain dict.

    For a page of wide rows (100 leads of 55 columns) building ORM objects and then reading
    every attribute back costs more than the query; a dict validates into a pydantic model
    faster than either an ORM object or a SQLAlchemy row.
    """
    result = session.execute(_page_statement(statement, key, limit, starting_after))
    names = list(result.keys())
    # Zipped with the tuple rows: a ``RowMapping`` looks up its keys for every row.
    records = [dict(zip(names, row, strict=True)) for row in result]
    name = _key_name(key)
    return _cut(records, limit, lambda record: record[name])


def _page_statement(
    statement: Select[Any],
    key: ColumnElement[Any] | QueryableAttribute[Any],
    limit: int,
    starting_after: Any | None,
) -> Select[Any]:
    if starting_after is not None:
        statement = statement.where(key > starting_after)
    return statement.order_by(key).limit(limit + 1)


def _key_name(key: ColumnElement[Any] | QueryableAttribute[Any]) -> str:
    """The attribute or record key holding the page key's value (``id`` for ``Lead.id``)."""
    return str(getattr(key, "key", "id"))


def _cut(
    rows: Sequence[Item], limit: int, key_of: Callable[[Item], Any]
) -> tuple[Sequence[Item], Any | None]:
    """The first ``limit`` rows, and the last one's key if more followed (one was fetched
    beyond the page to know)."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, key_of(rows[-1])
    return rows, None
