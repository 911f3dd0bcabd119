"""Who owned a lead when: recording owner changes and reading one lead's history.

Every write that changes owners records them as one :class:`AssignmentBatch`: a job's chunk
(see ``sql.record_history``), a PATCH, an import. A lead's history is the batches whose id
range covers it, oldest first, reduced to the triples that name it.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadroute.assignment.models import AssignmentBatch
from leadroute.ids import utcnow

OwnerChange = tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]


@dataclass(frozen=True)
class HistoryEntry:
    previous: uuid.UUID | None
    assigned_to: uuid.UUID | None
    job_id: uuid.UUID | None
    timestamp: datetime


def record_owner_changes(
    session: Session,
    workspace_id: uuid.UUID,
    changes: Sequence[OwnerChange],
    *,
    job_id: uuid.UUID | None = None,
) -> None:
    """Record ``(lead_id, previous, new)`` changes made by one request (no-ops dropped)."""
    real = [change for change in changes if change[1] != change[2]]
    if not real:
        return
    lead_ids = [lead_id for lead_id, _, _ in real]
    session.add(
        AssignmentBatch(
            workspace_id=workspace_id,
            job_id=job_id,
            first_lead_id=min(lead_ids),
            last_lead_id=max(lead_ids),
            change_count=len(real),
            changes=[[str(lead), _text(previous), _text(new)] for lead, previous, new in real],
            created_at=utcnow(),
        )
    )
    session.flush()


def lead_history(
    session: Session, workspace_id: uuid.UUID, lead_id: uuid.UUID
) -> list[HistoryEntry]:
    batches = session.scalars(
        select(AssignmentBatch)
        .where(
            AssignmentBatch.workspace_id == workspace_id,
            AssignmentBatch.first_lead_id <= lead_id,
            AssignmentBatch.last_lead_id >= lead_id,
        )
        .order_by(AssignmentBatch.id)
    ).all()
    entries = []
    for batch in batches:
        for change in batch.changes:
            if _uuid(change[0]) == lead_id:
                entries.append(
                    HistoryEntry(
                        previous=_uuid(change[1]),
                        assigned_to=_uuid(change[2]),
                        job_id=batch.job_id,
                        timestamp=batch.created_at,
                    )
                )
                break
    return entries


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _uuid(value: Any) -> uuid.UUID | None:
    # PostgreSQL writes dashed UUIDs into the JSON, SQLite its stored 32-digit hex: both parse.
    return uuid.UUID(str(value)) if value else None
