"""The ``assign-leads`` job kind: one chunk of a bulk assignment per call.

State (private, in the job row): the resolved selection, the high-water mark, the cursor
(last lead id processed), the position (how many leads took part so far) and the options.
Each chunk numbers the next leads, records their previous owners, writes the new ones and
advances the cursor, all in the transaction the engine commits with the job's progress, so
a crash at any point resumes exactly where the last commit left off.
"""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from leadroute.assignment import sql
from leadroute.assignment.distribution import counts_in_range
from leadroute.ids import utcnow
from leadroute.jobs.kinds import ChunkOutcome
from leadroute.jobs.models import BackgroundJob
from leadroute.selection import ResolvedSelection

ASSIGN_LEADS = "assign-leads"


class AssignLeadsKind:
    type = ASSIGN_LEADS

    def __init__(self, chunk_size: int) -> None:
        self.chunk_size = chunk_size

    def run_chunk(self, session: Session, job: BackgroundJob) -> ChunkOutcome:
        state: dict[str, Any] = dict(job.state)
        data: dict[str, Any] = dict(job.data)
        resolved = ResolvedSelection.model_validate(state["selection"])
        selection = resolved.where()
        if state.get("only_unassigned"):
            selection = selection & sql.leads.c.assigned_to.is_(None)
        high_water_mark = _uuid_or_none(state.get("high_water_mark"))
        limit: int | None = state.get("limit")
        rotation: list[str] = state["rotation"]
        position: int = state["position"]

        if high_water_mark is None:
            return _finished(data, state)

        if not state.get("counted"):
            everything = sql.taking_part(selection, high_water_mark=high_water_mark, cursor=None)
            data["total_to_process"] = sql.count_taking_part(session, everything, limit)
            state["counted"] = True

        remaining = self.chunk_size if limit is None else min(self.chunk_size, limit - position)
        if remaining <= 0:
            return _finished(data, state)

        condition = sql.taking_part(
            selection,
            high_water_mark=high_water_mark,
            cursor=_uuid_or_none(state.get("cursor")),
        )
        bounds = sql.number_chunk(session, condition, remaining)
        if bounds.size == 0 or bounds.first_lead_id is None or bounds.last_lead_id is None:
            return _finished(data, state)

        targets = sql.chunk_targets(
            condition,
            last_lead_id=bounds.last_lead_id,
            job_id=job.id,
            position=position,
            period=len(rotation),
        )
        now = utcnow()
        sql.record_history(
            session,
            targets,
            workspace_id=job.workspace_id,
            job_id=job.id,
            first_lead_id=bounds.first_lead_id,
            last_lead_id=bounds.last_lead_id,
            now=now,
        )
        changed = sql.apply_assignment(session, targets, now=now)

        per_user: dict[str, int] = dict(data.get("assigned_per_user", {}))
        for user, count in counts_in_range(rotation, position, bounds.size).items():
            per_user[user] = per_user.get(user, 0) + count
        data["assigned_per_user"] = per_user
        data["success_count"] = data.get("success_count", 0) + bounds.size
        data["unchanged_count"] = data.get("unchanged_count", 0) + bounds.size - changed
        state["position"] = position + bounds.size
        state["cursor"] = str(bounds.last_lead_id)

        reached_limit = limit is not None and state["position"] >= limit
        if bounds.size < remaining or reached_limit:
            return _finished(data, state)
        total = max(int(data.get("total_to_process", 0)), 1)
        progress = min(99, state["position"] * 100 // total)
        return ChunkOutcome(data=data, state=state, progress=progress, finished=False)


def _finished(data: dict[str, Any], state: dict[str, Any]) -> ChunkOutcome:
    # Leads can leave or enter the selection while the job runs; at the end the total is
    # what actually took part, so progress, total and success count agree.
    data["total_to_process"] = data.get("success_count", 0)
    return ChunkOutcome(data=data, state=state, progress=100, finished=True)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
