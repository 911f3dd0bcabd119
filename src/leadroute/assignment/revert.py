"""The ``revert-assign-leads`` job kind: give back the owners an assignment job replaced.

It walks the source job's history batches in order, one batch per chunk, and restores a
lead's previous owner only where the lead still has the owner the job gave it; a lead whose
owner changed again since is left alone and counted in ``conflict_count``. The restore is
itself recorded as history, so a revert can be reverted.
"""

import uuid
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from leadroute.assignment import sql
from leadroute.assignment.models import AssignmentBatch
from leadroute.ids import utcnow
from leadroute.jobs.kinds import ChunkOutcome
from leadroute.jobs.models import BackgroundJob
from leadroute.leads.models import leads

REVERT_ASSIGN_LEADS = "revert-assign-leads"


class RevertAssignmentKind:
    type = REVERT_ASSIGN_LEADS

    def run_chunk(self, session: Session, job: BackgroundJob) -> ChunkOutcome:
        state: dict[str, Any] = dict(job.state)
        data: dict[str, Any] = dict(job.data)
        source = uuid.UUID(state["source_job_id"])
        source_batches = select(AssignmentBatch.id).where(
            AssignmentBatch.workspace_id == job.workspace_id, AssignmentBatch.job_id == source
        )
        if not state.get("counted"):
            data["total_batches"] = session.scalar(
                select(func.count()).select_from(source_batches.subquery())
            )
            data["total_to_process"] = session.scalar(
                select(func.coalesce(func.sum(AssignmentBatch.change_count), 0)).where(
                    AssignmentBatch.workspace_id == job.workspace_id,
                    AssignmentBatch.job_id == source,
                )
            )
            state["counted"] = True
        after = state.get("after_batch")
        if after:
            source_batches = source_batches.where(AssignmentBatch.id > uuid.UUID(after))
        batch = session.scalars(source_batches.order_by(AssignmentBatch.id).limit(1)).first()
        if batch is None:
            return ChunkOutcome(data=data, state=state, progress=100, finished=True)
        stored = session.get(AssignmentBatch, batch)
        assert stored is not None

        changes = sql.expand_changes(session, batch)
        # Restore where the lead still has the owner the source job gave it.
        restorable = (
            select(
                changes.c.lead_id,
                leads.c.assigned_to.label("previous"),
                changes.c.previous.label("target"),
            )
            .select_from(changes)
            .join(leads, and_(leads.c.id == changes.c.lead_id))
            .where(
                leads.c.workspace_id == job.workspace_id,
                leads.c.assigned_to.is_not_distinct_from(changes.c.target),
            )
            .subquery("restorable")
        )
        now = utcnow()
        sql.record_history(
            session,
            restorable,
            workspace_id=job.workspace_id,
            job_id=job.id,
            first_lead_id=stored.first_lead_id,
            last_lead_id=stored.last_lead_id,
            now=now,
        )
        result = session.execute(
            update(leads)
            .where(leads.c.id == restorable.c.lead_id)
            .values(assigned_to=restorable.c.target, timestamp_updated=now)
        )
        reverted = int(result.rowcount or 0)  # type: ignore[attr-defined]
        data["reverted_count"] = data.get("reverted_count", 0) + reverted
        data["conflict_count"] = data.get("conflict_count", 0) + stored.change_count - reverted
        data["success_count"] = data["reverted_count"] + data["conflict_count"]
        data["batches_done"] = data.get("batches_done", 0) + 1
        state["after_batch"] = str(batch)
        total = max(int(data.get("total_batches") or 1), 1)
        return ChunkOutcome(
            data=data,
            state=state,
            progress=min(99, data["batches_done"] * 100 // total),
            finished=False,
        )
