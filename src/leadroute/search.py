"""Case-insensitive substring matching, the same on SQLite and PostgreSQL."""

from sqlalchemy import ColumnElement, func


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards in ``term`` escaped, lower-cased."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_ignoring_case(column: ColumnElement[str] | object, term: str) -> ColumnElement[bool]:
    return func.lower(column).like(like_pattern(term), escape="\\")
