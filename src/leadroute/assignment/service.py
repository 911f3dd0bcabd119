"""Accepting a bulk assignment: validate everything, then queue one job (or preview it)."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from leadroute.assignment import sql
from leadroute.assignment.distribution import (
    MAX_ROTATION_LENGTH,
    Phase,
    PlanTooLarge,
    plan_balanced,
    plan_rotation,
)
from leadroute.assignment.kind import ASSIGN_LEADS, AssignLeadsKind
from leadroute.assignment.revert import REVERT_ASSIGN_LEADS
from leadroute.assignment.schemas import MAX_TARGET_USERS, AssignmentPreview, BulkAssignRequest
from leadroute.auth.dependencies import Caller
from leadroute.errors import BadRequest, Conflict
from leadroute.jobs.models import FINISHED_STATUSES, BackgroundJob
from leadroute.jobs.service import enqueue_job, get_job, insert_job
from leadroute.leads.models import leads
from leadroute.members.repository import MemberRepository
from leadroute.moves.kind import MOVE_LEADS
from leadroute.selection import ResolvedSelection, resolve_selection

INVALID_TARGET = "Invalid ID on `organization_user_ids` field"


def assignment_queue_key(workspace_id: uuid.UUID) -> str:
    """Jobs that change owners in one workspace share this queue: one at a time, in order."""
    return f"assign:{workspace_id}"


class AssignmentService:
    def __init__(self, session: Session, caller: Caller, *, chunk_size: int) -> None:
        self.session = session
        self.caller = caller
        self.chunk_size = chunk_size
        self.members = MemberRepository(session, caller.workspace_id)

    def accept(self, body: BulkAssignRequest) -> uuid.UUID:
        """Queue the job; its id. The job row only, with no ORM object: see ``insert_job``."""
        job_id: uuid.UUID = insert_job(self.session, **self._new_job(body))["id"]
        return job_id

    def preview(self, body: BulkAssignRequest) -> AssignmentPreview:
        """The counts the job would end with, by running the job's own chunks and undoing them."""
        savepoint = self.session.begin_nested()
        try:
            job = enqueue_job(self.session, **self._new_job(body))
            kind = AssignLeadsKind(chunk_size=max(self.chunk_size, 10_000))
            while True:
                outcome = kind.run_chunk(self.session, job)
                job.data, job.state = outcome.data, outcome.state
                if outcome.finished:
                    break
            data = dict(job.data)
        finally:
            savepoint.rollback()
        return AssignmentPreview(
            total=data["total_to_process"],
            assigned_per_user=data["assigned_per_user"],
            unchanged=data["unchanged_count"],
            over_capacity=data.get("over_capacity_count", 0),
        )

    def _new_job(self, body: BulkAssignRequest) -> dict[str, Any]:
        """The job's fields for ``insert_job``, once everything in ``body`` has been checked."""
        targets = self._validate_targets(body.organization_user_ids)
        weights = self._validate_weights(body, targets)
        workspace_id = self.caller.workspace_id
        resolved = resolve_selection(self.session, workspace_id, body.lead_selection())
        high_water_mark = sql.high_water_mark(self.session, workspace_id)
        phases = self._plan(body, targets, weights, resolved, high_water_mark)
        request: dict[str, Any] = body.model_dump(mode="json", exclude_unset=True)
        request.pop("dry_run", None)
        return {
            "workspace_id": workspace_id,
            "user_id": self.caller.user_id,
            "type": ASSIGN_LEADS,
            "entity_type": "workspace",
            "entity_id": str(workspace_id),
            "data": {
                "total_to_process": 0,
                "success_count": 0,
                "unchanged_count": 0,
                "failed_count": 0,
                "assigned_per_user": {str(user): 0 for user in targets},
                "request": request,
            },
            "state": {
                "selection": resolved.model_dump(mode="json"),
                "high_water_mark": str(high_water_mark) if high_water_mark else None,
                "cursor": None,
                "position": 0,
                "counted": False,
                "phases": [
                    {"start": phase.start, "length": phase.length, "period": len(phase.rotation)}
                    for phase in phases
                ],
                "limit": body.limit,
                "only_unassigned": body.only_unassigned,
                # Written to `assignment_rotations` by the job's first chunk, not here: the
                # job row is then the request's only write (`write_in_one_statement`).
                sql.PENDING_ROTATIONS: [phase.rotation for phase in phases],
            },
            "queue_key": assignment_queue_key(workspace_id),
        }

    def _plan(
        self,
        body: BulkAssignRequest,
        targets: list[uuid.UUID],
        weights: list[int],
        resolved: ResolvedSelection,
        high_water_mark: uuid.UUID | None,
    ) -> list[Phase]:
        users = [str(user) for user in targets]
        try:
            if body.strategy != "balanced":
                return plan_rotation(users, weights, body.max_per_user)
            return plan_balanced(
                users,
                self._owned_elsewhere(body, targets, resolved, high_water_mark),
                self._taking_part(body, resolved, high_water_mark),
                body.max_per_user,
            )
        except PlanTooLarge as error:
            raise BadRequest(f"`max_per_user`: {error}") from error

    def _participants(
        self, body: BulkAssignRequest, resolved: ResolvedSelection, high_water_mark: uuid.UUID
    ) -> ColumnElement[bool]:
        selection = sql.selected_leads(resolved, only_unassigned=body.only_unassigned)
        return sql.taking_part(selection, high_water_mark=high_water_mark, cursor=None)

    def _taking_part(
        self,
        body: BulkAssignRequest,
        resolved: ResolvedSelection,
        high_water_mark: uuid.UUID | None,
    ) -> int:
        if high_water_mark is None:
            return 0
        condition = self._participants(body, resolved, high_water_mark)
        return sql.count_taking_part(self.session, condition, body.limit)

    def _owned_elsewhere(
        self,
        body: BulkAssignRequest,
        targets: list[uuid.UUID],
        resolved: ResolvedSelection,
        high_water_mark: uuid.UUID | None,
    ) -> dict[str, int]:
        """What each target owns outside the leads taking part: its level before the job."""
        workspace = leads.c.workspace_id == self.caller.workspace_id
        owned = sql.owner_counts(self.session, workspace, targets, None)
        if high_water_mark is not None:
            condition = self._participants(body, resolved, high_water_mark)
            for user, count in sql.owner_counts(
                self.session, condition, targets, body.limit
            ).items():
                owned[user] -= count
        return owned

    def _validate_targets(self, raw: list[Any]) -> list[uuid.UUID]:
        if not raw:
            raise BadRequest(f"{INVALID_TARGET}: at least one user id is required")
        if len(raw) > MAX_TARGET_USERS:
            raise BadRequest(
                f"`organization_user_ids`: at most {MAX_TARGET_USERS} users, got {len(raw)}"
            )
        targets: list[uuid.UUID] = []
        for value in raw:
            try:
                user_id = uuid.UUID(str(value)) if isinstance(value, str) else None
            except ValueError:
                user_id = None
            if user_id is None:
                raise BadRequest(f"{INVALID_TARGET}: {value!r} is not a UUID")
            if user_id not in targets:
                targets.append(user_id)
        members = self.members.member_user_ids(targets)
        for user_id in targets:
            if user_id not in members:
                raise BadRequest(
                    f"{INVALID_TARGET}: {user_id} is not a user of a member of this workspace"
                )
        return targets

    def _validate_weights(self, body: BulkAssignRequest, targets: list[uuid.UUID]) -> list[int]:
        """One weight per target (1 each unless weighted), duplicates' weights dropped."""
        if body.strategy != "weighted":
            if body.weights is not None:
                raise BadRequest("`weights`: only used with `strategy: weighted`")
            return [1] * len(targets)
        weights = body.weights
        given = len(body.organization_user_ids)
        if weights is None:
            raise BadRequest("`weights`: required with `strategy: weighted`")
        if len(weights) != given:
            raise BadRequest(
                f"`weights`: give one weight per entry of `organization_user_ids` "
                f"({given}), got {len(weights)}"
            )
        if any(weight <= 0 for weight in weights):
            raise BadRequest("`weights`: every weight must be a positive integer")
        if sum(weights) > MAX_ROTATION_LENGTH:
            raise BadRequest(f"`weights`: the weights must add up to at most {MAX_ROTATION_LENGTH}")
        return _first_occurrences(body.organization_user_ids, weights)


def _first_occurrences(users: list[Any], weights: list[int]) -> list[int]:
    """The weights of the users that survive de-duplication (first occurrence kept)."""
    seen: set[uuid.UUID] = set()
    kept = []
    for user, weight in zip(users, weights, strict=True):
        key = uuid.UUID(str(user))
        if key not in seen:
            seen.add(key)
            kept.append(weight)
    return kept


REVERTIBLE_TYPES = frozenset({ASSIGN_LEADS, REVERT_ASSIGN_LEADS, MOVE_LEADS})


def accept_revert(session: Session, caller: Caller, job_id: uuid.UUID) -> BackgroundJob:
    """Queue a job that restores the owners ``job_id`` replaced."""
    source = get_job(session, caller.workspace_id, job_id)
    if source.type not in REVERTIBLE_TYPES:
        raise BadRequest(
            f"job {job_id} is a `{source.type}` job: only jobs that assign leads can be reverted"
        )
    if source.status not in FINISHED_STATUSES:
        raise Conflict(f"job {job_id} is still {source.status}: revert it once it has finished")
    return enqueue_job(
        session,
        workspace_id=caller.workspace_id,
        user_id=caller.user_id,
        type=REVERT_ASSIGN_LEADS,
        entity_type="workspace",
        entity_id=str(caller.workspace_id),
        data={
            "source_job_id": str(job_id),
            "total_to_process": 0,
            "success_count": 0,
            "reverted_count": 0,
            "conflict_count": 0,
            "failed_count": 0,
        },
        state={"source_job_id": str(job_id), "after_batch": None, "counted": False},
        queue_key=assignment_queue_key(caller.workspace_id),
    )
