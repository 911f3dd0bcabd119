import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base
from leadroute.ids import new_id, utcnow


class SmartView(Base):
    """A named, stored selection of leads; ``smart_view_id`` in a request ANDs it in.

    ``selection`` holds the given fields of :class:`leadroute.selection.LeadSelection` as
    JSON (wire names, nulls left out), so a view reads back exactly as it was validated.
    """

    __tablename__ = "smart_views"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    selection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timestamp_created: Mapped[datetime] = mapped_column(default=utcnow)
    timestamp_updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
