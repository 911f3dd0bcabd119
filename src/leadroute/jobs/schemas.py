import uuid
from typing import Any, Literal

from leadroute.errors import BadRequest
from leadroute.jobs.models import BackgroundJob, JobStatus
from leadroute.schemas import Timestamp, WireModel

# Instantly's job types, then leadroute's [extension] types.
JobType = Literal[
    "move-leads",
    "import-leads",
    "export-leads",
    "update-warmup-accounts",
    "rename-variable",
    "broadcast-ai-generate",
    "broadcast-website-scrape",
    "import-subscribers-from-crm",
    "resync-subscriber-crm-tags",
    "assign-leads",
    "update-interest-status",
    "revert-assign-leads",
    "deliver-webhook",
]
EntityType = Literal[
    "list", "campaign", "workspace", "broadcast", "subscriber-group-sync", "subscriber-group"
]
SortOrder = Literal["asc", "desc"]


class BackgroundJobRead(WireModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID | None
    type: str
    entity_id: str | None
    entity_type: str
    data: dict[str, Any]
    progress: int
    status: str
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_job(
        cls, job: BackgroundJob, *, data_fields: list[str] | None = None
    ) -> "BackgroundJobRead":
        """The wire view; with ``data_fields``, ``data`` has only those of its keys."""
        read = cls.model_validate(job)
        if data_fields is not None:
            read.data = {key: read.data[key] for key in data_fields if key in read.data}
        return read


def comma_separated(raw: str | None) -> list[str] | None:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; None when the parameter is absent or blank."""
    parts = [part.strip() for part in (raw or "").split(",") if part.strip()]
    return parts or None


def parse_ids(raw: str | None, field: str) -> list[uuid.UUID] | None:
    values = comma_separated(raw)
    if values is None:
        return None
    try:
        return [uuid.UUID(value) for value in values]
    except ValueError:
        raise BadRequest(f"`{field}`: give comma-separated UUIDs") from None


def requested_ids(ids: str | None, included_ids: str | None) -> list[uuid.UUID] | None:
    """``ids`` and Instantly's ``included_ids`` both narrow the list; given both, a job must
    be named in each."""
    named = parse_ids(ids, "ids")
    included = parse_ids(included_ids, "included_ids")
    if named is None or included is None:
        return included if named is None else named
    both = set(included)
    return [job_id for job_id in named if job_id in both]


def parse_statuses(raw: str | None) -> list[str] | None:
    values = comma_separated(raw)
    if values is None:
        return None
    valid = [status.value for status in JobStatus]
    unknown = [value for value in values if value not in valid]
    if unknown:
        raise BadRequest(
            f"`status`: unknown value {unknown[0]!r}; use comma-separated values of "
            + ", ".join(valid)
        )
    return values
