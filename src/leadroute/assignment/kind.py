"""The ``assign-leads`` job kind: one chunk of a bulk assignment per call.

State (private, in the job row): the resolved selection, the high-water mark, the cursor
(last lead id processed), the position (how many leads took part so far), the plan's
phases (and, until the first chunk writes them to ``assignment_rotations``, their
rotations) and the options. Each chunk numbers the next leads, records their previous owners,
writes the new ones and advances the cursor, all in the transaction the engine commits with
the job's progress, so a crash at any point resumes exactly where the last commit left off.
"""

from typing import Any

from sqlalchemy.orm import Session

from leadroute.assignment import sql
from leadroute.assignment.distribution import counts_in_range
from leadroute.assignment.walk import LeadWalk
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
        sql.write_pending_rotations(session, job.id, state)
        selection = sql.selected_leads(
            ResolvedSelection.model_validate(state["selection"]),
            only_unassigned=bool(state.get("only_unassigned")),
        )
        walk = LeadWalk.from_state(state, selection)
        walk.count_once(session, state, data)
        if walk.exhausted:
            return _finished(data, state)
        remaining = walk.next_chunk_size(self.chunk_size)
        condition = walk.remaining_leads()
        phase_index, phase = _current_phase(state["phases"], walk.position)
        if phase is None:
            # Every user is at capacity: the leads left take no part and stay as they are.
            left = None if walk.limit is None else walk.limit - walk.position
            data["over_capacity_count"] = sql.count_taking_part(session, condition, left)
            return _finished(data, state)
        if phase["length"] is not None:
            remaining = min(remaining, phase["start"] + phase["length"] - walk.position)

        offset = walk.position - phase["start"]
        chunk = sql.assign_chunk(
            session,
            condition,
            size=remaining,
            workspace_id=job.workspace_id,
            job_id=job.id,
            phase=phase_index,
            offset=offset,
            period=phase["period"],
            now=utcnow(),
        )
        if chunk.size == 0 or chunk.last_lead_id is None:
            return _finished(data, state)

        rotation = sql.phase_rotation(session, job.id, phase_index)
        per_user: dict[str, int] = dict(data.get("assigned_per_user", {}))
        for user, count in counts_in_range(rotation, offset, chunk.size).items():
            per_user[user] = per_user.get(user, 0) + count
        data["assigned_per_user"] = per_user
        data["success_count"] = data.get("success_count", 0) + chunk.size
        data["unchanged_count"] = data.get("unchanged_count", 0) + chunk.size - chunk.changed
        walk.advance(state, chunk.size, chunk.last_lead_id)
        if chunk.size < remaining or walk.exhausted:
            return _finished(data, state)
        return ChunkOutcome(data=data, state=state, progress=walk.progress(data), finished=False)


def _current_phase(
    phases: list[dict[str, Any]], position: int
) -> tuple[int, dict[str, Any] | None]:
    for index, phase in enumerate(phases):
        if phase["length"] is None or position < phase["start"] + phase["length"]:
            return index, phase
    return len(phases), None


def _finished(data: dict[str, Any], state: dict[str, Any]) -> ChunkOutcome:
    # Leads can leave or enter the selection while the job runs; at the end the total is
    # what actually took part (plus what found every user at capacity), so progress, total
    # and counts agree.
    data["total_to_process"] = data.get("success_count", 0) + data.get("over_capacity_count", 0)
    return ChunkOutcome(data=data, state=state, progress=100, finished=True)
