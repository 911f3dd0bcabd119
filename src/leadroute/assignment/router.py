import uuid
from typing import Annotated

from fastapi import Header, Request, Response
from fastapi.responses import JSONResponse

from leadroute.assignment.history import lead_history
from leadroute.assignment.schemas import (
    AssignmentHistory,
    AssignmentHistoryItem,
    AssignmentPreview,
    BulkAssignAccepted,
    BulkAssignRequest,
)
from leadroute.assignment.service import AssignmentService, accept_revert
from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep, write_in_one_statement
from leadroute.errors import NotFound
from leadroute.idempotency.service import (
    HEADER,
    IdempotencyKeys,
    request_fingerprint,
    validate_key,
)
from leadroute.leads.repository import LeadRepository
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/leads", tags=["Leads"])


@router.post(
    "/bulk-assign",
    status_code=202,
    response_model=BulkAssignAccepted,
    responses={200: {"model": AssignmentPreview, "description": "`dry_run: true`: a preview"}},
)
def bulk_assign_leads(
    body: BulkAssignRequest,
    request: Request,
    caller: Annotated[Caller, scoped("leads", "update")],
    session: SessionDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="[extension] 1..255 printable ASCII characters. A repeat within 24 h "
            "with the same body answers the same job; with another body, 409. "
            "Not used with `dry_run`.",
        ),
    ] = None,
) -> JSONResponse:
    """Spread the selected leads over `organization_user_ids`, as a background job.

    Validation happens before anything is queued. The job takes the selected leads that
    exist now, in id order, and gives lead *i* to user *i mod K*. Follow it at the
    `Location` header (`job_id` in the body).
    """
    key = validate_key(idempotency_key)
    service = AssignmentService(
        session, caller, chunk_size=request.app.state.settings.job_chunk_size
    )
    if body.dry_run:
        # A preview writes nothing, so a key has nothing to remember: it is ignored.
        preview = service.preview(body)
        return JSONResponse(preview.model_dump(mode="json"), status_code=200)
    if key is None:
        # The job row is then the request's only write (a key is a second one).
        write_in_one_statement(session)
    job_id = IdempotencyKeys(session, caller.workspace_id).job_for(
        key,
        lambda: request_fingerprint(
            "bulk-assign", body.model_dump(mode="json", exclude_unset=True, exclude={"dry_run"})
        ),
        lambda: service.accept(body),
    )
    # Made here with its Location header; the job id needs no validating.
    return JSONResponse(
        BulkAssignAccepted(job_id=job_id).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v2/background-jobs/{job_id}"},
    )


jobs_router = api_router(prefix="/api/v2/background-jobs", tags=["Background jobs"])


@jobs_router.post("/{id}/revert", status_code=202, response_model=BulkAssignAccepted)
def revert_assignment(
    id: uuid.UUID,
    response: Response,
    caller: Annotated[Caller, scoped("leads", "update")],
    session: SessionDep,
) -> BulkAssignAccepted:
    """[extension] Queue a `revert-assign-leads` job that gives back the owners job `id`
    replaced; leads whose owner changed again since are left alone (`data.conflict_count`)."""
    job = accept_revert(session, caller, id)
    response.headers["Location"] = f"/api/v2/background-jobs/{job.id}"
    return BulkAssignAccepted(job_id=job.id)


@router.get("/{id}/assignment-history", response_model=AssignmentHistory)
def lead_assignment_history(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("leads", "read")],
    session: SessionDep,
) -> AssignmentHistory:
    """[extension] The lead's owners over time, oldest first, with the job that set each
    (`job_id` null for a PATCH or an import)."""
    if LeadRepository(session, caller.workspace_id).get(id) is None:
        raise NotFound(f"Lead {id} not found")
    entries = lead_history(session, caller.workspace_id, id)
    return AssignmentHistory(
        items=[
            AssignmentHistoryItem(
                previous=entry.previous,
                assigned_to=entry.assigned_to,
                job_id=entry.job_id,
                timestamp=entry.timestamp,
            )
            for entry in entries
        ]
    )
