"""``leadroute jobs list | show | watch | cancel | revert``: background jobs through the API.

Following a job polls ``GET /api/v2/background-jobs/{id}`` (every half second) until it is
``success``, ``failed`` or ``cancelled``. Ctrl-C stops following, not the job: the server
runs it to the end, and ``jobs cancel`` is how to stop it.
"""

import sys
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from leadroute.cli_ops.common import (
    DEFAULT_URL,
    EXIT_ERROR,
    ApiKeyOption,
    JsonOption,
    MemberDirectory,
    UrlOption,
    connected,
    console,
    echo_json,
    fail,
)
from leadroute.client import ApiError, Client, Job, JsonObject

jobs_app = typer.Typer(help="Background jobs: list, follow, cancel, revert.", no_args_is_help=True)

POLL_INTERVAL_SECONDS = 0.5
# Counters of a job's `data` worth a line in a human summary, in this order.
SUMMARY_COUNTS = (
    ("total_to_process", "leads taking part"),
    ("success_count", "processed"),
    ("unchanged_count", "already owned by their target"),
    ("over_capacity_count", "left unchanged (over capacity)"),
    ("reverted_count", "given back to their previous owner"),
    ("conflict_count", "changed again since, left alone"),
    ("failed_count", "failed"),
)

JobIdArgument = Annotated[str, typer.Argument(help="The job's id.")]


def output_console() -> Console:
    """Tables are the result of a command: stdout, wide enough for ids when piped."""
    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def job_json(job: Job, directory: MemberDirectory | None = None) -> JsonObject:
    body: JsonObject = {
        "id": job.id,
        "type": job.type,
        "status": job.status,
        "progress": job.progress,
        "data": job.data,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }
    if directory is not None and isinstance(job.data.get("assigned_per_user"), dict):
        body["assigned_per_user_by_email"] = per_user_by_email(
            job.data["assigned_per_user"], directory
        )
    return body


def per_user_by_email(per_user: dict[str, Any], directory: MemberDirectory) -> dict[str, int]:
    return {str(directory.email_of(user_id)): int(count) for user_id, count in per_user.items()}


def follow_job(client: Client, job_id: str, *, poll_interval: float = POLL_INTERVAL_SECONDS) -> Job:
    """Polls the job with a progress bar until it finishes; answers its last state."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("job", total=100, counts="")
        try:
            while True:
                job = client.job(job_id)
                total = int(job.data.get("total_to_process") or 0)
                done = int(job.data.get("success_count") or 0)
                counts = f"{done:,}/{total:,} leads" if total else ""
                progress.update(
                    task,
                    description=f"{job.type} {job.status}",
                    completed=100 if job.finished else job.progress,
                    counts=counts,
                )
                if job.finished:
                    return job
                time.sleep(poll_interval)
        except KeyboardInterrupt:
            progress.stop()
            console.print(
                f"Stopped following job {job_id}; it goes on on the server.\n"
                f"  follow it again: leadroute jobs watch {job_id}\n"
                f"  stop it:         leadroute jobs cancel {job_id}"
            )
            raise typer.Exit(130) from None


def print_job_result(job: Job, directory: MemberDirectory | None) -> None:
    colour = {"success": "green", "failed": "red", "cancelled": "yellow"}.get(job.status, "cyan")
    console.print(f"Job {job.id} ({job.type}): [bold {colour}]{job.status}[/bold {colour}]")
    for key, meaning in SUMMARY_COUNTS:
        if key in job.data and (job.data[key] or key == "total_to_process"):
            console.print(f"  {int(job.data[key]):,} {meaning}")
    per_user = job.data.get("assigned_per_user")
    if isinstance(per_user, dict) and per_user:
        table = Table("member", "leads", title=None, box=None, padding=(0, 2))
        for user_id, count in per_user.items():
            name = directory.email_of(user_id) if directory else user_id
            table.add_row(str(name), f"{int(count):,}")
        console.print(table)
    if job.data.get("error"):
        console.print(f"  error: {job.data['error']}", markup=False)


def finish(job: Job, directory: MemberDirectory | None, as_json: bool) -> None:
    """Reports a finished (or followed) job; exit code 1 unless it succeeded."""
    if as_json:
        echo_json(job_json(job, directory))
    print_job_result(job, directory)
    if job.finished and job.status != "success":
        raise typer.Exit(EXIT_ERROR)


@jobs_app.command("list")
def list_jobs(
    status: Annotated[
        str | None, typer.Option(help="Comma-separated statuses, e.g. pending,in-progress.")
    ] = None,
    job_type: Annotated[
        str | None, typer.Option("--type", help="Only this type, e.g. assign-leads.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 20,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """The workspace's background jobs, newest first."""
    params = {"status": status, "type": job_type, "sort_column": "created_at", "sort_order": "desc"}
    with connected(url, api_key) as client:
        jobs: list[Job] = []
        for job in client.jobs(params):
            jobs.append(job)
            if len(jobs) >= limit:
                break
    if as_json:
        echo_json([job_json(job) for job in jobs])
        return
    table = Table("id", "type", "status", "progress", "created", "detail", box=None)
    for job in jobs:
        total = job.data.get("total_to_process")
        detail = (
            f"{int(job.data.get('success_count') or 0):,}/{int(total):,} leads" if total else ""
        )
        if job.data.get("error"):
            detail = str(job.data["error"])
        table.add_row(job.id, job.type, job.status, f"{job.progress}%", job.created_at, detail)
    output_console().print(table)
    if not jobs:
        console.print("no jobs")


@jobs_app.command("show")
def show_job(
    job_id: JobIdArgument,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """One job: its status, progress and counts."""
    with connected(url, api_key) as client:
        job = client.job(job_id)
        directory = MemberDirectory.load(client) if "assigned_per_user" in job.data else None
    if as_json:
        echo_json(job_json(job, directory))
        return
    console.print(
        f"progress: {job.progress}%  created: {job.created_at}  updated: {job.updated_at}"
    )
    print_job_result(job, directory)


@jobs_app.command("watch")
def watch_job(
    job_id: JobIdArgument,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Follow a job with a progress bar until it ends (exit code 1 unless it succeeds)."""
    with connected(url, api_key) as client:
        job = follow_job(client, job_id)
        directory = MemberDirectory.load(client) if "assigned_per_user" in job.data else None
    finish(job, directory, as_json)


@jobs_app.command("cancel")
def cancel_job(
    job_id: JobIdArgument,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a pending or running job; what it already applied stays (see `jobs revert`)."""
    with connected(url, api_key) as client:
        try:
            job = client.cancel_job(job_id)
        except ApiError as error:
            if error.status_code == 409:
                fail(f"job {job_id} cannot be cancelled: {error.message}")
            raise
        directory = MemberDirectory.load(client) if "assigned_per_user" in job.data else None
    if as_json:
        echo_json(job_json(job, directory))
        return
    print_job_result(job, directory)


@jobs_app.command("revert")
def revert_job(
    job_id: JobIdArgument,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Queue it and return.")] = False,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give back the owners an assignment job replaced, as a new `revert-assign-leads` job.

    Leads whose owner changed again since are left alone (counted as conflicts).
    """
    with connected(url, api_key) as client:
        revert_id = client.revert_job(job_id)
        if no_wait:
            if as_json:
                echo_json({"job_id": revert_id})
            console.print(
                f"Queued revert job {revert_id}; follow it: leadroute jobs watch {revert_id}"
            )
            return
        console.print(f"Queued revert job {revert_id}")
        job = follow_job(client, revert_id)
    finish(job, None, as_json)
