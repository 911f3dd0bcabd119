import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadroute.db.base import Base
from leadroute.ids import new_id, utcnow


class User(Base):
    """A person, identified by email; the same user may belong to several workspaces."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Stored lower-cased: emails are compared case-insensitively everywhere.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(255), default=None)
    last_name: Mapped[str | None] = mapped_column(String(255), default=None)
    timestamp_created: Mapped[datetime] = mapped_column(default=utcnow)


class WorkspaceMember(Base):
    """A user's membership of a workspace; its ``user_id`` is what leads are assigned to."""

    __tablename__ = "workspace_members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    accepted: Mapped[bool] = mapped_column(default=True)
    nickname: Mapped[str | None] = mapped_column(String(80), default=None)
    permissions: Mapped[list[str] | None] = mapped_column(default=None)
    timestamp_created: Mapped[datetime] = mapped_column(default=utcnow)
    timestamp_updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
