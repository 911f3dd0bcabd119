"""``leadroute leads import`` and ``leadroute leads export``, through the public API.

Import sends ``POST /api/v2/leads/add`` batches of 1000 in file order, one at a time, so
leads get ids (UUIDv7, time ordered) in the order of the file and bulk-assign's rotation
follows the file. Measured on SQLite with a local server: 100,000 rows in about 10 s, so
requests in parallel were not needed. Export reads ``POST /api/v2/leads/list`` pages of 100
(the contract's maximum) and writes each page as it arrives: memory stays flat whatever the
number of leads.
"""

import contextlib
import csv
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from leadroute.cli_ops.common import (
    DEFAULT_URL,
    EXIT_BAD_ROWS,
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
    find_campaign,
    find_lead_list,
    split_values,
)
from leadroute.cli_ops.csv_import import (
    BATCH_SIZE,
    BadRow,
    BatchSender,
    ColumnPlan,
    DuplicateRow,
    ImportProblem,
    ImportReport,
    PreparedLead,
    RowChecker,
    count_records,
    json_report,
    open_records,
    plan_columns,
)
from leadroute.client import Client, ClientError, JsonObject, NamedResource
from leadroute.leads.schemas import STATIC_INTEREST_STATUSES, LeadRead

leads_app = typer.Typer(help="Import and export leads through the API.", no_args_is_help=True)

# A campaign created by an import needs a schedule (Instantly requires one); leadroute does
# not send mail, so any valid one will do: weekdays, 9 to 5, US Central time.
DEFAULT_CAMPAIGN_SCHEDULE: JsonObject = {
    "schedules": [
        {
            "name": "Weekdays",
            "timing": {"from": "09:00", "to": "17:00"},
            "days": dict.fromkeys(("1", "2", "3", "4", "5"), True),
            "timezone": "America/Chicago",
        }
    ]
}
BAD_ROWS_SHOWN = 50
LEAD_FIELDS = frozenset(LeadRead.model_fields)

DEFAULT_EXPORT_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "phone",
    "website",
    "personalization",
    "lt_interest_status",
    "pl_value_lead",
    "assigned_to",
    "status",
    "email_open_count",
    "email_reply_count",
    "email_click_count",
    "timestamp_last_contact",
    "timestamp_created",
    "custom_variables",
)


@leads_app.command("import")
def import_leads(
    file: Annotated[str, typer.Argument(help="A CSV file with a header row; - reads stdin.")],
    list_name: Annotated[
        str | None, typer.Option("--list", help="Into this lead list (created if missing).")
    ] = None,
    campaign_name: Annotated[
        str | None, typer.Option("--campaign", help="Into this campaign (created if missing).")
    ] = None,
    assigned_to: Annotated[
        str | None,
        typer.Option("--assigned-to", help="Owner (a member's email) of rows that name none."),
    ] = None,
    skip_if_in_workspace: Annotated[
        bool,
        typer.Option(
            "--skip-if-in-workspace", help="Skip emails the workspace already has anywhere."
        ),
    ] = False,
    skip_if_in_campaign: Annotated[
        bool, typer.Option("--skip-if-in-campaign", help="Skip emails already in any campaign.")
    ] = False,
    skip_if_in_list: Annotated[
        bool, typer.Option("--skip-if-in-list", help="Skip emails already in any list.")
    ] = False,
    delimiter: Annotated[
        str | None, typer.Option(help="Field separator (default: guessed from the header).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="The file's text encoding.")] = "utf-8-sig",
    batch_size: Annotated[
        int, typer.Option(min=1, max=BATCH_SIZE, help="Leads per request.")
    ] = BATCH_SIZE,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a CSV file into a list or a campaign.

    Columns map to lead fields by header (email, first_name, company, title, owner, ...);
    other columns become custom variables. Bad rows are reported with their line numbers
    and the rest is imported; emails already in the destination are skipped, so running
    the same import twice is safe. Exit code 3: finished, but some rows were rejected.
    """
    if (list_name is None) == (campaign_name is None):
        fail("give --list NAME or --campaign NAME (one of them)")
    started = time.monotonic()
    with open_input(file, encoding) as stream:
        try:
            chosen_delimiter, rows = open_records(stream, delimiter)
            header = next(rows, None)
            if header is None:
                fail(f"{file} is empty: it needs a header row")
            plan = plan_columns(header[1])
        except ImportProblem as problem:
            fail(f"{file}: {problem}")
        except UnicodeDecodeError as error:
            fail(f"{file} is not {encoding} text ({error.reason}): give --encoding")
        total = count_file_records(file, encoding, chosen_delimiter)

        with connected(url, api_key) as client:
            destination, created = import_destination(client, list_name, campaign_name)
            checker = row_checker(client, plan, campaign_name is not None, assigned_to)
            options: JsonObject = {
                "skip_if_in_workspace": skip_if_in_workspace,
                "skip_if_in_campaign": skip_if_in_campaign,
                "skip_if_in_list": skip_if_in_list,
            }
            if assigned_to is not None and checker.members is not None:
                owner = checker.members.resolve([assigned_to], "--assigned-to")[0]
                options["assigned_to"] = owner.user_id
            target = {"list_id": destination.id} if list_name else {"campaign_id": destination.id}
            kind = "list" if list_name else "campaign"
            describe_plan(file, plan, total, kind, destination, created)
            report = run_import(client, rows, checker, target, options, total, batch_size, file)

    seconds = time.monotonic() - started
    if as_json:
        echo_json(
            json_report(
                report,
                {
                    kind: {"id": destination.id, "name": destination.name, "created": created},
                    "seconds": round(seconds, 3),
                    "custom_variables": plan.custom_variable_names,
                    "ignored_columns": plan.ignored,
                },
            )
        )
    print_import_summary(report, kind, seconds)
    if report.bad_rows or report.rejected_by_server:
        raise typer.Exit(EXIT_BAD_ROWS)


@contextlib.contextmanager
def open_input(file: str, encoding: str) -> Iterator[TextIO]:
    if file == "-":
        yield io.TextIOWrapper(sys.stdin.buffer, encoding=encoding, newline="")
        return
    try:
        stream = open(file, encoding=encoding, newline="")  # noqa: SIM115
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    with stream:
        yield stream


def count_file_records(file: str, encoding: str, delimiter: str) -> int | None:
    """The data rows of a regular file, for a progress bar with a total (stdin: unknown)."""
    if file == "-":
        return None
    with open(file, encoding=encoding, newline="") as stream:
        return count_records(stream, delimiter)


def row_checker(
    client: Client, plan: ColumnPlan, to_campaign: bool, assigned_to: str | None
) -> RowChecker:
    """A checker that knows the members and lead labels, when the file refers to them."""
    checker = RowChecker(plan, to_campaign=to_campaign)
    if "assigned_to" in plan.fields.values() or assigned_to is not None:
        checker.members = MemberDirectory.load(client)
    if "lt_interest_status" in plan.fields.values():
        checker.interest_statuses = STATIC_INTEREST_STATUSES | {
            label.interest_status
            for label in client.lead_labels()
            if label.interest_status is not None
        }
    return checker


def import_destination(
    client: Client, list_name: str | None, campaign_name: str | None
) -> tuple[NamedResource, bool]:
    """The list or campaign named, created when there is none; and whether it was created."""
    if list_name is not None:
        found = find_lead_list(client, list_name)
        return (found, False) if found else (client.create_lead_list(list_name), True)
    assert campaign_name is not None
    found = find_campaign(client, campaign_name)
    if found:
        return found, False
    return client.create_campaign(campaign_name, DEFAULT_CAMPAIGN_SCHEDULE), True


def describe_plan(
    file: str,
    plan: ColumnPlan,
    total: int | None,
    kind: str,
    destination: NamedResource,
    created: bool,
) -> None:
    rows = f"{total:,} rows of " if total is not None else ""
    state = " (created)" if created else ""
    console.print(f"Importing {rows}{file} into {kind} {destination.name!r}{state}", markup=False)
    mapped = ", ".join(sorted(set(plan.fields.values())))
    console.print(f"  lead fields: {mapped or 'none'}", markup=False)
    if plan.custom or plan.custom_json is not None:
        names = plan.custom_variable_names + (
            ["(custom_variables JSON)"] if plan.custom_json is not None else []
        )
        console.print(f"  custom variables: {', '.join(names)}", markup=False)
    if plan.ignored:
        console.print(f"  ignored columns: {', '.join(plan.ignored)}", markup=False)


def progress_bar(total_known: bool) -> Progress:
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total_known:
        columns += [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    else:
        columns += [TextColumn("{task.completed:,} rows")]
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=console, disable=not console.is_terminal)


def run_import(
    client: Client,
    rows: Iterator[tuple[int, list[str]]],
    checker: RowChecker,
    target: JsonObject,
    options: JsonObject,
    total: int | None,
    batch_size: int,
    file: str,
) -> ImportReport:
    report = ImportReport()
    batch: list[PreparedLead] = []
    last_line = 1
    with (
        progress_bar(total is not None) as progress,
        BatchSender(client, target, options, report) as sender,
    ):
        task = progress.add_task("importing", total=total)
        try:
            for line, cells in rows:
                last_line = line
                report.rows += 1
                prepared = checker.prepare(line, cells)
                if isinstance(prepared, BadRow):
                    report.bad_rows.append(prepared)
                elif isinstance(prepared, DuplicateRow):
                    report.duplicates_in_file.append(prepared)
                else:
                    batch.append(prepared)
                    if len(batch) >= batch_size:
                        sender.send(batch)
                        batch = []
                        progress.update(task, completed=report.rows)
            if batch:
                sender.send(batch)
            sender.wait()
            progress.update(task, completed=report.rows)
        except KeyboardInterrupt:
            progress.stop()
            console.print(
                f"Interrupted near line {last_line} after importing {report.imported:,} leads; "
                "running the same command again is safe."
            )
            raise typer.Exit(130) from None
        except (ClientError, ImportProblem, UnicodeDecodeError) as error:
            progress.stop()
            reason = error.reason if isinstance(error, UnicodeDecodeError) else str(error)
            fail(
                f"{reason}\nStopped near line {last_line} of {file} after importing "
                f"{report.imported:,} leads. Running the same command again is safe: "
                "leads already imported are skipped as duplicates."
            )
    return report


def print_import_summary(report: ImportReport, kind: str, seconds: float) -> None:
    bad_rows = report.sorted_bad_rows()
    for row in bad_rows[:BAD_ROWS_SHOWN]:
        console.print(f"line {row.line}: {row.reason}", markup=False)
    if len(bad_rows) > BAD_ROWS_SHOWN:
        console.print(
            f"... and {len(bad_rows) - BAD_ROWS_SHOWN:,} more bad rows (--json lists all)"
        )
    rate = report.rows / seconds if seconds > 0 else 0.0
    console.print(
        f"[bold]Imported {report.imported:,} of {report.rows:,} rows[/bold] "
        f"in {seconds:.1f} s ({rate:,.0f} rows/s)"
    )
    console.print(
        f"  duplicates skipped: {report.duplicates:,} "
        f"({len(report.duplicates_in_file):,} repeated in the file, "
        f"{report.already_present:,} already in the {kind})"
    )
    if report.skipped:
        console.print(f"  skipped by --skip-if-in-*: {report.skipped:,}")
    if report.rejected_by_server:
        console.print(
            f"  rejected by the server (invalid or incomplete): {report.rejected_by_server:,}"
        )
    style = "red" if bad_rows else "green"
    console.print(f"  bad rows: [{style}]{len(bad_rows):,}[/{style}]")


# --- export -----------------------------------------------------------------------------------


@leads_app.command("export")
def export_leads(
    list_name: ListOption = None,
    campaign_name: CampaignOption = None,
    smart_view: SmartViewOption = None,
    filter_value: FilterOption = None,
    search: SearchOption = None,
    assigned_to: Annotated[
        list[str] | None,
        typer.Option(
            "--assigned-to", help="Leads owned by these members (emails, comma-separated)."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="At most this many leads.")] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated columns; a name that is not a lead field reads that "
            "custom variable. Default: the lead's own fields and custom_variables (JSON)."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Write the selected leads as CSV (stdout by default), in id order, page by page.

    `assigned_to` is written as the owner's email, and custom variables as one JSON column,
    so the file imports back with `leadroute leads import`.
    """
    chosen = split_values([columns]) if columns else list(DEFAULT_EXPORT_COLUMNS)
    selection = SelectionOptions(list_name, campaign_name, smart_view, filter_value, search)
    owners = split_values(assigned_to or [])
    with connected(url, api_key) as client:
        body = selection.body(client)
        directory = MemberDirectory.load(client) if owners or "assigned_to" in chosen else None
        if owners:
            assert directory is not None
            body["organization_user_ids"] = [
                member.user_id for member in directory.resolve(owners, "--assigned-to")
            ]
        with open_output(output) as stream:
            written = write_csv(client, body, chosen, directory, stream, limit)
    where = f" to {output}" if output else ""
    console.print(f"Exported {written:,} leads{where}")


@contextlib.contextmanager
def open_output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        stream = path.open("w", encoding="utf-8", newline="")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
    with stream:
        yield stream


def write_csv(
    client: Client,
    selection: JsonObject,
    columns: list[str],
    directory: MemberDirectory | None,
    stream: TextIO,
    limit: int | None,
) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    written = 0
    try:
        writer.writerow(columns)
        if limit == 0:
            return 0
        with progress_bar(total_known=False) as progress:
            task = progress.add_task("exporting", total=None)
            for page in client.lead_pages(selection):
                if limit is not None:
                    page = page[: limit - written]
                writer.writerows(export_row(lead, columns, directory) for lead in page)
                stream.flush()
                written += len(page)
                progress.update(task, completed=written)
                if limit is not None and written >= limit:
                    break
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return written


def export_row(
    lead: JsonObject, columns: list[str], directory: MemberDirectory | None
) -> list[str]:
    custom = lead.get("payload") or {}
    row = []
    for column in columns:
        if column == "assigned_to":
            owner = lead.get("assigned_to")
            value: Any = directory.email_of(owner) if directory else owner
        elif column == "custom_variables":
            value = json.dumps(custom, ensure_ascii=False) if custom else None
        elif column in LEAD_FIELDS:
            value = lead.get(column)
        else:
            value = custom.get(column)
        row.append(csv_value(value))
    return row


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
