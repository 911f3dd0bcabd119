import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base
from leadroute.ids import new_id, utcnow


class LeadLabel(Base):
    """A custom interest status: a number outside the static set, with a sentiment."""

    __tablename__ = "lead_labels"
    __table_args__ = (UniqueConstraint("workspace_id", "interest_status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(255))
    interest_status: Mapped[int] = mapped_column()
    interest_status_label: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(1024), default=None)
    # Instantly's LeadLabel carries both: the creating user and a flag for its AI features,
    # which leadroute stores and answers without acting on it.
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    use_with_ai: Mapped[bool | None] = mapped_column(default=None)
    timestamp_created: Mapped[datetime] = mapped_column(default=utcnow)
    timestamp_updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
