import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base, JsonDocument
from leadroute.ids import new_id, utcnow


class WebhookEvent(StrEnum):
    BACKGROUND_JOB_FINISHED = "background_job.finished"
    LEADS_ASSIGNED = "leads.assigned"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Webhook(Base):
    """A receiver of the workspace's events.

    ``secret`` signs every delivery (HMAC-SHA256), so it is stored as given, not hashed; the
    API shows it only in the answer that creates the webhook.
    """

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    target_url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(default=list)
    secret: Mapped[str] = mapped_column(String(255))
    timestamp_created: Mapped[datetime] = mapped_column(default=utcnow)
    timestamp_updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook, and how its attempts went.

    ``job_id`` is the ``deliver-webhook`` job that sends it. ``attempt_log`` has one entry per
    attempt (``attempted_at``, ``status_code``, ``error``, ``duration_ms``), at most
    ``webhook_max_attempts``.
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    webhook_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("webhooks.id", ondelete="CASCADE")
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    attempt_log: Mapped[list[Any]] = mapped_column(JsonDocument, default=list)
    last_status_code: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# A webhook's deliveries, in id order (keyset pages).
Index("ix_webhook_deliveries_webhook_id_id", WebhookDelivery.webhook_id, WebhookDelivery.id)
