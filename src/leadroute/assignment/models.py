import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base, JsonDocument
from leadroute.ids import new_id, utcnow


class AssignmentBatch(Base):
    """The owner changes one write made: a job's chunk, a PATCH, an import.

    One compact row per chunk instead of one row per lead keeps history cheap enough to
    record on every assignment (see docs/benchmarks.md). ``changes`` holds
    ``[lead_id, previous_owner, new_owner]`` triples for the leads whose owner changed; the
    chunk's leads lie between ``first_lead_id`` and ``last_lead_id``, which is how one lead's
    history is found.
    """

    __tablename__ = "assignment_batches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    first_lead_id: Mapped[uuid.UUID] = mapped_column()
    last_lead_id: Mapped[uuid.UUID] = mapped_column()
    change_count: Mapped[int] = mapped_column(default=0)
    changes: Mapped[list[Any]] = mapped_column(JsonDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index(
    "ix_assignment_batches_workspace_id_first_lead_id",
    AssignmentBatch.workspace_id,
    AssignmentBatch.first_lead_id,
    AssignmentBatch.last_lead_id,
)


class AssignmentRotation(Base):
    """One slot of one phase of a job's plan (see ``distribution``).

    Lead number ``i`` of the phase goes to slot ``i % period``. Written once when the job is
    accepted, so every chunk joins it instead of carrying the user list in SQL text.
    """

    __tablename__ = "assignment_rotations"

    job_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    phase: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[uuid.UUID] = mapped_column()
