import uuid
from typing import Annotated

from fastapi import Depends, Query, Request

from leadroute.auth.dependencies import Caller, scoped
from leadroute.db.session import SessionDep
from leadroute.jobs.kinds import JobRegistry
from leadroute.jobs.repository import JobFilters, JobOrder, SortColumn
from leadroute.jobs.schemas import (
    BackgroundJobRead,
    EntityType,
    JobType,
    SortOrder,
    comma_separated,
    parse_ids,
    parse_statuses,
    requested_ids,
)
from leadroute.jobs.service import cancel_job, get_job, page_jobs
from leadroute.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, StartingAfter
from leadroute.routing import api_router

router = api_router(prefix="/api/v2/background-jobs", tags=["Background jobs"])


def current_job_registry(request: Request) -> JobRegistry:
    """The registry whose finish listeners hear of jobs cancelled through the API.

    `leadroute serve` stores the one its embedded workers use in ``app.state``; otherwise
    it is built once from the app's settings.
    """
    registry: JobRegistry | None = getattr(request.app.state, "job_registry", None)
    if registry is None:
        from leadroute.job_kinds import job_registry

        registry = job_registry(request.app.state.settings)
        request.app.state.job_registry = registry
    return registry


@router.get("", response_model=Page[BackgroundJobRead])
def list_background_jobs(
    caller: Annotated[Caller, scoped("background-jobs", "read")],
    session: SessionDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    starting_after: StartingAfter = None,
    ids: Annotated[str | None, Query(description="Comma-separated job ids.")] = None,
    included_ids: Annotated[str | None, Query(description="Same as `ids`.")] = None,
    excluded_ids: Annotated[str | None, Query(description="Comma-separated job ids.")] = None,
    job_type: Annotated[JobType | None, Query(alias="type")] = None,
    entity_type: Annotated[EntityType | None, Query()] = None,
    entity_id: Annotated[str | None, Query(max_length=255)] = None,
    status: Annotated[str | None, Query(description="Comma-separated statuses.")] = None,
    sort_column: Annotated[SortColumn | None, Query()] = None,
    sort_order: Annotated[SortOrder, Query()] = "asc",
) -> Page[BackgroundJobRead]:
    """The workspace's background jobs: by id, or by `sort_column` then id; keyset pages."""
    filters = JobFilters(
        ids=requested_ids(ids, included_ids),
        excluded_ids=parse_ids(excluded_ids, "excluded_ids"),
        type=job_type,
        entity_type=entity_type,
        entity_id=entity_id,
        statuses=parse_statuses(status),
    )
    order = JobOrder(column=sort_column, descending=sort_order == "desc")
    rows, cursor = page_jobs(
        session, caller.workspace_id, filters, order, limit=limit, starting_after=starting_after
    )
    return Page(
        items=[BackgroundJobRead.from_job(row) for row in rows],
        next_starting_after=str(cursor) if cursor else None,
    )


@router.get("/{id}", response_model=BackgroundJobRead)
def get_background_job(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("background-jobs", "read")],
    session: SessionDep,
    data_fields: Annotated[
        str | None, Query(description="Comma-separated keys of `data` to include.")
    ] = None,
) -> BackgroundJobRead:
    """One background job; `data_fields` narrows `data` to the named keys."""
    job = get_job(session, caller.workspace_id, id)
    return BackgroundJobRead.from_job(job, data_fields=comma_separated(data_fields))


@router.post("/{id}/cancel", response_model=BackgroundJobRead)
def cancel_background_job(
    id: uuid.UUID,
    caller: Annotated[Caller, scoped("background-jobs", "update")],
    session: SessionDep,
    registry: Annotated[JobRegistry, Depends(current_job_registry)],
) -> BackgroundJobRead:
    """[extension] Cancel a job: a pending job never starts, a running one stops at its next
    chunk (what it applied stays applied). 409 if the job has already finished."""
    job = cancel_job(session, caller.workspace_id, id, registry=registry)
    return BackgroundJobRead.from_job(job)
