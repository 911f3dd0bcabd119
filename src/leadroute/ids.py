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
    """ISO-8601 UTC with milliseconds and ``Z``, e.g. ``2026-11-28T08:40:18.123Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
