import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base
from leadroute.ids import new_id, utcnow


class Campaign(Base):
    """A campaign as a container of leads. Its sending settings are stored, not acted on."""

    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[int] = mapped_column(default=0)
    # The rest of Instantly's campaign body (schedule, sequences, ...) exactly as given.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timestamp_created: Mapped[datetime] = mapped_column(default=utcnow)
    timestamp_updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
