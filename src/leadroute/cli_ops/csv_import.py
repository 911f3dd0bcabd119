"""CSV rows -> ``POST /api/v2/leads/add`` items, with every bad row named by its line.

Decisions (the contract says nothing about CSV):

- Columns map to lead fields by header, compared without case, spaces or punctuation, with
  the usual aliases (``E-mail``, ``First Name``, ``Company``, ``Title``, ``Owner`` ...).
  A header that names a read-only field of Instantly's ``Lead`` (``id``, ``status``,
  ``timestamp_created``, the counters ...) is ignored and reported: that is what
  ``leads export`` writes, so an export imports back cleanly. A ``custom_variables`` (or
  ``payload``) column holding a JSON object is spread into the custom variables; every other
  column becomes a custom variable named by its header as written. Values are trimmed and
  kept as strings (CSV has no types); an empty cell is "not given".
- ``assigned_to`` holds a member's email (or user id); ``lt_interest_status`` a number, static
  or a lead label's. Both are checked here, before sending, so a bad value costs its row and
  not its batch (the server answers 400 for the whole batch).
- A row is checked with the server's own item model and email rule, so a row that passes
  here is one the server imports; what the server still refuses (a 400 naming
  ``leads.<i>``) is set aside with that message and the rest of the batch is sent again.
- An email repeated within the file keeps its first row; the repeats are duplicates (not
  errors), as are emails the destination already holds (the server skips them), which makes
  a second run of the same import import nothing.
- Line numbers are the file's physical lines (the header is line 1); a row whose quoted
  value spans lines is numbered by its first line.
"""

import csv
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

from pydantic import ValidationError

from leadroute.cli_ops.common import MemberDirectory
from leadroute.client import ApiError, Client, ImportSummary, JsonObject
from leadroute.leads.schemas import STATIC_INTEREST_STATUSES, LeadImportItem, LeadRead
from leadroute.leads.service import clean_email, is_valid_email

BATCH_SIZE = 1000

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "email_address", "e_mail", "e_mail_address", "mail", "work_email"),
    "first_name": ("first_name", "firstname", "first", "given_name"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name"),
    "company_name": ("company_name", "company", "companyname", "organization", "organisation"),
    "job_title": ("job_title", "jobtitle", "title", "position"),
    "phone": ("phone", "phone_number", "telephone", "mobile", "mobile_phone"),
    "website": ("website", "company_website", "url", "web", "site"),
    "personalization": ("personalization", "personalisation", "icebreaker", "ice_breaker"),
    "lt_interest_status": ("lt_interest_status", "interest_status"),
    "pl_value_lead": ("pl_value_lead", "lead_value"),
    "assigned_to": ("assigned_to", "owner", "owner_email", "assignee"),
}
FIELD_BY_HEADER = {alias: name for name, aliases in FIELD_ALIASES.items() for alias in aliases}
CUSTOM_VARIABLES_HEADERS = frozenset({"custom_variables", "payload"})
# What export writes and import must not turn into custom variables.
READ_ONLY_HEADERS = (
    frozenset(LeadRead.model_fields) - set(LeadImportItem.model_fields) - {"payload"}
)
DELIMITERS = (",", ";", "\t", "|")


class ImportProblem(Exception):
    """The file cannot be imported at all (bad header, unreadable CSV)."""


def normalized_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


@dataclass(frozen=True)
class ColumnPlan:
    """Where each column of the file goes."""

    fields: dict[int, str]
    custom: dict[int, str]
    custom_json: int | None
    ignored: list[str]
    width: int

    @property
    def custom_variable_names(self) -> list[str]:
        return list(self.custom.values())


def plan_columns(header: list[str]) -> ColumnPlan:
    fields: dict[int, str] = {}
    custom: dict[int, str] = {}
    custom_json: int | None = None
    ignored: list[str] = []
    taken: dict[str, str] = {}
    for index, raw in enumerate(header):
        name = raw.strip()
        key = normalized_header(name)
        if not key:
            ignored.append(f"column {index + 1} (no header)")
            continue
        target = FIELD_BY_HEADER.get(key)
        if key in CUSTOM_VARIABLES_HEADERS:
            target = "custom_variables"
        if target is None and key in READ_ONLY_HEADERS:
            ignored.append(name)
            continue
        slot = target or f"custom:{name}"
        if slot in taken:
            what = f"lead field `{target}`" if target else f"custom variable {name!r}"
            raise ImportProblem(
                f"columns {taken[slot]!r} and {name!r} both give the {what}: keep one of them"
            )
        taken[slot] = name
        if target == "custom_variables":
            custom_json = index
        elif target is not None:
            fields[index] = target
        else:
            custom[index] = name
    if not fields and not custom and custom_json is None:
        raise ImportProblem("the header names no column to import")
    return ColumnPlan(fields, custom, custom_json, ignored, len(header))


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True)
class DuplicateRow:
    line: int
    first_line: int
    email: str


@dataclass(frozen=True)
class PreparedLead:
    line: int
    item: JsonObject


@dataclass
class RowChecker:
    """Turns one CSV record into a ``/leads/add`` item, or says what is wrong with it."""

    plan: ColumnPlan
    to_campaign: bool
    members: MemberDirectory | None = None
    interest_statuses: frozenset[int] = STATIC_INTEREST_STATUSES
    first_line_of: dict[str, int] = field(default_factory=dict)

    def prepare(self, line: int, cells: list[str]) -> PreparedLead | BadRow | DuplicateRow:
        extra = [cell for cell in cells[self.plan.width :] if cell.strip()]
        if extra:
            return BadRow(
                line, f"has {len(cells)} values but the header has {self.plan.width} columns"
            )
        item: JsonObject = {}
        custom: JsonObject = {}
        if self.plan.custom_json is not None:
            raw = cell_at(cells, self.plan.custom_json)
            if raw:
                try:
                    spread = json.loads(raw)
                except ValueError:
                    spread = None
                if not isinstance(spread, dict):
                    return BadRow(line, "`custom_variables`: is not a JSON object")
                custom.update(spread)
        for index, name in self.plan.custom.items():
            value = cell_at(cells, index)
            if value:
                custom[name] = value
        for index, name in self.plan.fields.items():
            value = cell_at(cells, index)
            if value:
                item[name] = value
        if custom:
            item["custom_variables"] = custom

        problem = self._convert_references(item)
        if problem:
            return BadRow(line, problem)
        try:
            LeadImportItem.model_validate(item)
        except ValidationError as error:
            return BadRow(line, describe(error))
        email = clean_email(item.get("email"))
        if email is not None and not is_valid_email(email):
            return BadRow(line, f"`email`: {email!r} is not a valid email address")
        problem = self._missing_identity(item)
        if problem:
            return BadRow(line, problem)
        if email is not None:
            first_line = self.first_line_of.setdefault(email.lower(), line)
            if first_line != line:
                return DuplicateRow(line, first_line, email)
        return PreparedLead(line, item)

    def _convert_references(self, item: JsonObject) -> str | None:
        """``assigned_to`` email -> user id, ``lt_interest_status`` text -> a known number."""
        owner = item.get("assigned_to")
        if owner is not None:
            member = self.members.find(owner) if self.members else None
            if member is None:
                return f"`assigned_to`: {owner!r} is not the email of a member of this workspace"
            item["assigned_to"] = member.user_id
        status = item.get("lt_interest_status")
        if status is not None:
            try:
                number = int(status)
            except ValueError:
                return f"`lt_interest_status`: {status!r} is not a whole number"
            if number not in self.interest_statuses:
                return (
                    f"`lt_interest_status`: {number} is neither a static interest status "
                    "nor the interest status of a lead label of this workspace"
                )
            item["lt_interest_status"] = number
        return None

    def _missing_identity(self, item: JsonObject) -> str | None:
        if self.to_campaign:
            return None if item.get("email") else "`email` is required to add a lead to a campaign"
        if item.get("email") or item.get("first_name") or item.get("last_name"):
            return None
        return "give at least one of `email`, `first_name`, `last_name`"


def cell_at(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


def describe(error: ValidationError) -> str:
    """``first_name: String should have ...; phone: ...`` in the API's own words."""
    parts = []
    for detail in error.errors():
        where = ".".join(str(part) for part in detail.get("loc", ())) or "row"
        parts.append(f"`{where}`: {detail.get('msg', 'is invalid')}")
    return "; ".join(parts)


# --- reading the file -------------------------------------------------------------------------


def detect_delimiter(first_line: str) -> str:
    """The candidate that occurs most in the header line (a comma when none does)."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def records(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(first physical line, cells)`` of every record; blank lines are skipped."""
    reader = csv.reader(lines, delimiter=delimiter)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportProblem(f"line {start}: {error}") from None
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1


def open_records(
    stream: TextIO, delimiter: str | None
) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    """The delimiter in use and the records of ``stream`` (the header first)."""
    first_line = stream.readline()
    chosen = delimiter or detect_delimiter(first_line)
    return chosen, records(itertools.chain([first_line], stream), chosen)


def count_records(stream: TextIO, delimiter: str) -> int | None:
    """How many data rows a seekable file has (for the progress bar), or None."""
    try:
        return max(sum(1 for _ in records(stream, delimiter)) - 1, 0)
    except (ImportProblem, UnicodeDecodeError):
        return None


# --- sending --------------------------------------------------------------------------------

_NAMED_ITEM = re.compile(r"`leads\.(\d+)\.?([^`]*)`:\s*")


def problems_by_index(message: str, size: int) -> dict[int, str]:
    """A 400's message split into the items it names: ``{index: "`field`: reason"}``."""
    named: dict[int, str] = {}
    for part in message.split("; "):
        match = _NAMED_ITEM.match(part)
        if match is None or int(match.group(1)) >= size:
            continue
        where = match.group(2) or "row"
        reason = f"`{where}`: {part[match.end() :]}"
        index = int(match.group(1))
        named[index] = f"{named[index]}; {reason}" if index in named else reason
    return named


@dataclass
class BatchResult:
    summaries: list[ImportSummary] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)


def send_batch(
    client: Client, batch: list[PreparedLead], destination: JsonObject, options: JsonObject
) -> BatchResult:
    """Sends a batch; rows the server refuses (400) are set aside and the rest sent again.

    A 400 naming ``leads.<i>`` removes those items; one naming no item is narrowed down by
    halving the batch, so one bad row never costs the others. Any other error stops the
    import (re-running it is safe: what was imported is skipped as duplicates).
    """
    result = BatchResult()
    pending = list(batch)
    while pending:
        try:
            summary = client.add_leads(
                [lead.item for lead in pending], **destination, options=options
            )
        except ApiError as error:
            if error.status_code != 400:
                raise
            named = problems_by_index(error.message, len(pending))
            if named:
                result.bad_rows.extend(BadRow(pending[i].line, named[i]) for i in sorted(named))
                pending = [lead for i, lead in enumerate(pending) if i not in named]
                continue
            if len(pending) == 1:
                result.bad_rows.append(BadRow(pending[0].line, error.message))
                return result
            middle = len(pending) // 2
            for half in (pending[:middle], pending[middle:]):
                part = send_batch(client, half, destination, options)
                result.summaries.extend(part.summaries)
                result.bad_rows.extend(part.bad_rows)
            return result
        result.summaries.append(summary)
        return result
    return result


class BatchSender:
    """Sends batches in file order, one request at a time, from a background thread.

    The next batch is read and checked while the server stores the previous one; there is
    never more than one request in flight, so leads get their (time-ordered) ids in the
    order of the file. An error of a batch is raised by the next ``send`` or ``wait``.
    """

    def __init__(
        self, client: Client, target: JsonObject, options: JsonObject, report: "ImportReport"
    ) -> None:
        self.client = client
        self.target = target
        self.options = options
        self.report = report
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadroute-import")
        self._pending: Future[BatchResult] | None = None

    def __enter__(self) -> "BatchSender":
        return self

    def __exit__(self, *_exc: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def send(self, batch: list[PreparedLead]) -> None:
        self.wait()
        self._pending = self._executor.submit(
            send_batch, self.client, batch, self.target, self.options
        )

    def wait(self) -> None:
        """Waits for the batch in flight and adds its outcome to the report."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self.report.add(pending.result())


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    skipped: int = 0
    rejected_by_server: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    duplicates_in_file: list[DuplicateRow] = field(default_factory=list)

    def add(self, result: BatchResult) -> None:
        self.bad_rows.extend(result.bad_rows)
        for summary in result.summaries:
            self.imported += summary.leads_uploaded
            self.already_present += summary.duplicated_leads + summary.duplicate_email_count
            self.skipped += summary.skipped_count
            self.rejected_by_server += summary.invalid_email_count + summary.incomplete_count

    @property
    def duplicates(self) -> int:
        return len(self.duplicates_in_file) + self.already_present

    def sorted_bad_rows(self) -> list[BadRow]:
        return sorted(self.bad_rows, key=lambda row: row.line)


def json_report(report: ImportReport, extra: dict[str, Any]) -> JsonObject:
    return {
        **extra,
        "rows": report.rows,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "duplicates_in_file": [
            {"line": row.line, "first_line": row.first_line, "email": row.email}
            for row in report.duplicates_in_file
        ],
        "already_present": report.already_present,
        "skipped": report.skipped,
        "rejected_by_server": report.rejected_by_server,
        "bad_rows": [{"line": row.line, "reason": row.reason} for row in report.sorted_bad_rows()],
    }
