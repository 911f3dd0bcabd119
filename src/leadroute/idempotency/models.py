import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base
from leadroute.ids import utcnow


class IdempotencyKey(Base):
    """A client's ``Idempotency-Key`` and the job its first request started.

    Keys are per workspace. ``fingerprint`` is the SHA-256 of the request's canonical JSON, so
    a repeat with another body can be told apart. ``job_id`` is NULL only inside the
    transaction that claimed the key, between the claim and the job's insert; no other
    transaction ever sees it so.
    """

    __tablename__ = "idempotency_keys"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("background_jobs.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Forgetting a workspace's expired keys reads only those.
Index(
    "ix_idempotency_keys_workspace_id_created_at",
    IdempotencyKey.workspace_id,
    IdempotencyKey.created_at,
)
