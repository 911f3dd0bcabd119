"""Identifiers and timestamps as the wire format wants them."""

import uuid
from datetime import UTC, datetime

from uuid_utils import compat


def new_id() -> uuid.UUID:
    """A UUIDv7: time ordered, so keyset paging by id is also creation order."""
    return compat.uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_timestamp(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, e.g. ``2026-11-28T08:40:18.123Z``.

    A naive value is taken as UTC. Called for every timestamp of every response (a page of
    100 leads has hundreds), so it formats the fields with one ``%``: ``isoformat`` with a
    ``timespec`` and an offset to cut off cost twice as much.
    """
    if value.tzinfo is not UTC and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 - the fastest here
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 1000,
    )
