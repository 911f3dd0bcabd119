"""``leadroute assign --to EMAIL[,EMAIL...]``: a bulk-assign, followed to its end.

Decisions:

- A selection is required: ``--list``, ``--campaign``, ``--smart-view``, ``--filter``,
  ``--search``, ``--owned-by``, ``--unassigned`` or ``--limit``; ``--all`` says "every lead of
  the workspace" explicitly, so a forgotten option never reassigns a whole workspace.
- Each invocation sends its own ``Idempotency-Key``: a request retried after a rate limit
  answer cannot queue the job twice.
- ``--dry-run`` answers the counts per member without queueing anything; a server that
  does not know ``dry_run`` (it would queue a job) is reported as an error.
"""

import uuid
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from leadroute.cli_ops.common import (
    DEFAULT_URL,
    ApiKeyOption,
    CampaignOption,
    FilterOption,
    JsonOption,
    ListOption,
    MemberDirectory,
    SearchOption,
    SelectionOptions,
    SmartViewOption,
    UrlOption,
    connected,
    console,
    echo_json,
    fail,
    split_values,
)
from leadroute.cli_ops.jobs import finish, follow_job, per_user_by_email
from leadroute.client import JsonObject


class Strategy(StrEnum):
    round_robin = "round_robin"
    weighted = "weighted"
    balanced = "balanced"


def assign(
    to: Annotated[
        list[str],
        typer.Option(
            "--to", help="Members' emails, in rotation order (comma-separated or repeated)."
        ),
    ],
    list_name: ListOption = None,
    campaign_name: CampaignOption = None,
    smart_view: SmartViewOption = None,
    filter_value: FilterOption = None,
    search: SearchOption = None,
    owned_by: Annotated[
        str | None, typer.Option("--owned-by", help="Only leads this member owns now (email).")
    ] = None,
    unassigned: Annotated[
        bool, typer.Option("--unassigned", help="Only leads nobody owns yet.")
    ] = False,
    all_leads: Annotated[
        bool, typer.Option("--all", help="Every lead of the workspace (no other selection).")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=0, help="At most this many selected leads, in id order.")
    ] = None,
    strategy: Annotated[
        Strategy, typer.Option(help="How leads are spread over the members.")
    ] = Strategy.round_robin,
    weights: Annotated[
        str | None, typer.Option(help="With --strategy weighted: one integer per member, e.g. 3,1.")
    ] = None,
    max_per_user: Annotated[
        int | None, typer.Option(min=0, help="At most this many leads for each member.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the counts per member; change nothing.")
    ] = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Queue the job and return without following it.")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Spread the selected leads over members, as a background job followed to its end.

    Example: leadroute assign --to ana@acme.com,bo@acme.com --list "Conference" --dry-run
    """
    selection = SelectionOptions(list_name, campaign_name, smart_view, filter_value, search)
    selected = any(
        value is not None for value in (list_name, campaign_name, smart_view, filter_value, search)
    ) or bool(owned_by or unassigned or limit is not None)
    if selected and all_leads:
        fail("--all means every lead of the workspace: give it without other selection options")
    if not selected and not all_leads:
        fail(
            "give a selection (--list, --campaign, --smart-view, --filter, --search, --owned-by, "
            "--unassigned, --limit), or --all for every lead of the workspace"
        )
    emails = split_values(to)
    if not emails:
        fail("--to: give at least one member's email")

    with connected(url, api_key) as client:
        directory = MemberDirectory.load(client)
        targets = list({member.user_id: member for member in directory.resolve(emails, "--to")})
        body = selection.body(client)
        body["organization_user_ids"] = targets
        if owned_by is not None:
            body["assigned_to"] = directory.resolve([owned_by], "--owned-by")[0].user_id
        if unassigned:
            body["only_unassigned"] = True
        if limit is not None:
            body["limit"] = limit
        add_strategy(body, strategy, weights, len(targets))
        if max_per_user is not None:
            body["max_per_user"] = max_per_user

        if dry_run:
            preview = client.bulk_assign({**body, "dry_run": True})
            show_preview(preview, directory, as_json)
            return
        accepted = client.bulk_assign(body, idempotency_key=str(uuid.uuid4()))
        job_id = str(accepted["job_id"])
        if no_wait:
            if as_json:
                echo_json({"job_id": job_id})
            console.print(
                f"Queued assign-leads job {job_id}; follow it: leadroute jobs watch {job_id}"
            )
            return
        console.print(f"Queued assign-leads job {job_id}")
        job = follow_job(client, job_id)
    finish(job, directory, as_json)


def add_strategy(body: JsonObject, strategy: Strategy, weights: str | None, users: int) -> None:
    if strategy != Strategy.round_robin:
        body["strategy"] = strategy.value
    if weights is None:
        if strategy == Strategy.weighted:
            fail("--strategy weighted needs --weights, one integer per member (e.g. 3,1)")
        return
    if strategy != Strategy.weighted:
        fail("--weights goes with --strategy weighted")
    try:
        numbers = [int(part) for part in split_values([weights])]
    except ValueError:
        fail(f"--weights: {weights!r} is not a comma-separated list of integers")
    if len(numbers) != users:
        fail(f"--weights: give {users} weights, one per member of --to (got {len(numbers)})")
    body["weights"] = numbers


def show_preview(preview: JsonObject, directory: MemberDirectory, as_json: bool) -> None:
    if "total" not in preview:
        fail(
            "the server does not support dry_run and may have queued a job: "
            f"{preview.get('job_id', 'no job id')} (check with `leadroute jobs list`)"
        )
    per_user = per_user_by_email(preview.get("assigned_per_user") or {}, directory)
    if as_json:
        echo_json({**preview, "assigned_per_user_by_email": per_user})
        return
    console.print(f"[bold]Dry run[/bold]: {int(preview['total']):,} leads would take part")
    table = Table("member", "leads", box=None, padding=(0, 2))
    for email, count in per_user.items():
        table.add_row(email, f"{count:,}")
    console.print(table)
    console.print(f"  {int(preview.get('unchanged') or 0):,} already owned by their target")
    if preview.get("over_capacity"):
        console.print(f"  {int(preview['over_capacity']):,} left unchanged (over capacity)")
    console.print("Nothing was changed.")
