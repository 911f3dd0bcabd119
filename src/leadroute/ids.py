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
    100 leads has hundreds), so it uses ``isoformat``, in C, not ``strftime``.
    """
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"
