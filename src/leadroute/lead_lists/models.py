import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base
from leadroute.ids import new_id, utcnow


class LeadList(Base):
    __tablename__ = "lead_lists"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    has_enrichment_task: Mapped[bool | None] = mapped_column(default=None)
    owned_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    timestamp_created: Mapped[datetime] = mapped_column(default=utcnow)
    timestamp_updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
