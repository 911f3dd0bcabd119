"""Wire format of ``/api/v2/webhooks`` and of the deliveries they receive."""

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from leadroute.schemas import RequestModel, Timestamp, WireModel

EventType = Literal["background_job.finished", "leads.assigned"]
MAX_URL_LENGTH = 2048
MIN_SECRET_LENGTH = 16


def _without_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text: refuse it here rather than fail in SQL.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host, kept exactly as given (it is what gets called)."""
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        valid = False
    if not valid:
        raise ValueError("give an absolute http:// or https:// URL with a host")
    return value


def _distinct(values: list[EventType]) -> list[EventType]:
    if not values:
        raise ValueError("give at least one event type")
    return list(dict.fromkeys(values))


TargetUrl = Annotated[str, Field(max_length=MAX_URL_LENGTH), AfterValidator(_http_url)]
EventTypes = Annotated[list[EventType], Field(max_length=10), AfterValidator(_distinct)]
Name = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_without_nul)]
Secret = Annotated[
    str,
    AfterValidator(_without_nul),
    Field(
        min_length=MIN_SECRET_LENGTH,
        max_length=255,
        description="Signs every delivery (HMAC-SHA256); shown only when the webhook is created.",
    ),
]


class WebhookCreate(RequestModel):
    target_url: TargetUrl
    event_types: EventTypes
    secret: Secret | None = Field(default=None, description="Generated when absent.")
    name: Name | None = Field(default=None)


class WebhookUpdate(RequestModel):
    """Given fields replace the stored ones; ``name: null`` clears the name."""

    target_url: TargetUrl | None = None
    event_types: EventTypes | None = None
    secret: Secret | None = None
    name: Name | None = Field(default=None)


class WebhookRead(WireModel):
    id: uuid.UUID
    organization_id: uuid.UUID = Field(validation_alias="workspace_id")
    name: str | None
    target_url: str
    event_types: list[str]
    timestamp_created: Timestamp
    timestamp_updated: Timestamp


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once: store it to verify `X-Leadroute-Signature`.")


DeliveryStatusValue = Literal["pending", "delivered", "failed"]


class DeliveryAttempt(WireModel):
    attempted_at: str
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookDeliveryRead(WireModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    job_id: uuid.UUID | None = Field(description="The `deliver-webhook` background job.")
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    attempt_log: list[DeliveryAttempt]
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    timestamp_created: Timestamp = Field(validation_alias="created_at")
    timestamp_updated: Timestamp = Field(validation_alias="updated_at")
