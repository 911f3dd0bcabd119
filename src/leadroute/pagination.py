"""Cursor pagination shared by every list endpoint.

Pages are keyset pages over a unique, ordered column (the id, a UUIDv7): the page after
``starting_after`` is the rows whose key is greater, so a page costs the same at row ten as
at row ten million.
"""

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import QueryableAttribute, Session

T = TypeVar("T")
Row = TypeVar("Row")

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
    if starting_after is not None:
        statement = statement.where(key > starting_after)
    rows = session.scalars(statement.order_by(key).limit(limit + 1)).all()
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, _key_of(rows[-1], key)
    return rows, None


def _key_of(row: Any, key: ColumnElement[Any] | QueryableAttribute[Any]) -> Any:
    return getattr(row, str(getattr(key, "key", "id")))
