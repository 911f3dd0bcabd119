"""What every API command shares: connection options, errors, output, and naming things.

The command line names users by email and lists, campaigns and smart views by name; the API
wants ids. The resolvers here turn one into the other with the list endpoints (an id is
accepted too, for scripts and for names that are not unique).

Output: progress bars, messages and tables go to stderr, data (CSV, ``--json``) to stdout,
so ``leadroute leads export > out.csv`` and ``... --json | jq`` stay clean. Progress bars
are drawn only on a terminal; in a log they would be noise.
"""

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from leadroute.client import ApiError, Client, ClientError, JsonObject, Member, NamedResource

DEFAULT_URL = "http://127.0.0.1:8000"

# Exit codes: 0 done; 1 an error stopped the command (or the job it followed did not
# succeed); 2 bad usage (typer's); 3 an import finished but rejected some rows.
EXIT_ERROR = 1
EXIT_BAD_ROWS = 3

console = Console(stderr=True, soft_wrap=True, highlight=False)

UrlOption = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="LEADROUTE_URL",
        help="The server's base URL (without /api/v2).",
        show_default=True,
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="LEADROUTE_API_KEY",
        help="An API key of the workspace (see `leadroute workspace create`).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    console.print(f"[bold red]error:[/bold red] {escape_markup(message)}")
    raise typer.Exit(code)


def escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


@contextmanager
def connected(url: str, api_key: str | None) -> Iterator[Client]:
    """A client for the command; any API failure ends the command with its message."""
    if not api_key:
        fail("give an API key with --api-key or LEADROUTE_API_KEY")
    try:
        with Client(url, api_key) as client:
            yield client
    except ClientError as error:
        fail(str(error))


def split_values(values: Iterable[str]) -> list[str]:
    """``--to a@x,b@x --to c@x`` -> ``["a@x", "b@x", "c@x"]`` (blanks dropped, order kept)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@dataclass
class MemberDirectory:
    """The workspace's members, by lower-cased email and by user id (one listing)."""

    by_email: dict[str, Member]
    by_user_id: dict[str, Member]

    @classmethod
    def load(cls, client: Client) -> "MemberDirectory":
        members = list(client.members())
        return cls(
            by_email={member.email.lower(): member for member in members},
            by_user_id={member.user_id: member for member in members},
        )

    def find(self, email_or_user_id: str) -> Member | None:
        key = email_or_user_id.strip()
        if is_uuid(key):
            return self.by_user_id.get(str(uuid.UUID(key)))
        return self.by_email.get(key.lower())

    def email_of(self, user_id: str | None) -> str | None:
        """The member's email; a former member's id as it is; None for no owner."""
        if user_id is None:
            return None
        member = self.by_user_id.get(user_id)
        return member.email if member else user_id

    def resolve(self, emails: Iterable[str], option: str) -> list[Member]:
        """The members named, in the given order; every unknown name is reported at once."""
        found: list[Member] = []
        unknown: list[str] = []
        for email in emails:
            member = self.find(email)
            if member is None:
                unknown.append(email)
            else:
                found.append(member)
        if unknown:
            fail(f"{option}: no member of this workspace has the email {', '.join(unknown)}")
        return found


def find_named(
    kind: str,
    name: str,
    search: Callable[[str | None], Iterator[NamedResource]],
    get: Callable[[str], JsonObject],
) -> NamedResource | None:
    """The one resource called ``name`` (exact, else case-insensitive), or None.

    Several with the same name is an error naming their ids, so a command never picks one
    at random; an id is accepted in place of a name.
    """
    if is_uuid(name):
        try:
            return NamedResource.from_json(get(name))
        except ApiError as error:
            if error.status_code == 404:
                return None
            raise
    candidates = [item for item in search(name) if item.name.lower() == name.lower()]
    exact = [item for item in candidates if item.name == name] or candidates
    if len(exact) > 1:
        ids = ", ".join(item.id for item in exact)
        fail(f"several {kind}s are named {name!r} ({ids}): give the id instead")
    return exact[0] if exact else None


def find_lead_list(client: Client, name: str) -> NamedResource | None:
    return find_named(
        "lead list",
        name,
        client.lead_lists,
        lambda id_: client.request("GET", f"/lead-lists/{id_}"),
    )


def find_campaign(client: Client, name: str) -> NamedResource | None:
    return find_named(
        "campaign", name, client.campaigns, lambda id_: client.request("GET", f"/campaigns/{id_}")
    )


def find_smart_view(client: Client, name: str) -> NamedResource | None:
    return find_named(
        "smart view",
        name,
        client.smart_views,
        lambda id_: client.request("GET", f"/smart-views/{id_}"),
    )


def require(resource: NamedResource | None, kind: str, name: str) -> NamedResource:
    if resource is None:
        fail(f"no {kind} named {name!r} in this workspace")
    return resource


@dataclass(frozen=True)
class SelectionOptions:
    """The selection options shared by ``leads export`` and ``assign`` (section 4)."""

    list_name: str | None = None
    campaign_name: str | None = None
    smart_view: str | None = None
    filter: str | None = None
    search: str | None = None

    def body(self, client: Client) -> JsonObject:
        """The selection fields of a request body, names resolved to ids."""
        if self.list_name is not None and self.campaign_name is not None:
            fail("give --list or --campaign, not both (a lead is in one or the other)")
        body: JsonObject = {}
        if self.list_name is not None:
            body["list_id"] = require(
                find_lead_list(client, self.list_name), "lead list", self.list_name
            ).id
        if self.campaign_name is not None:
            body["campaign"] = require(
                find_campaign(client, self.campaign_name), "campaign", self.campaign_name
            ).id
        if self.smart_view is not None:
            body["smart_view_id"] = require(
                find_smart_view(client, self.smart_view), "smart view", self.smart_view
            ).id
        if self.filter is not None:
            body["filter"] = self.filter
        if self.search is not None:
            body["search"] = self.search
        return body


ListOption = Annotated[
    str | None, typer.Option("--list", help="Leads of the lead list with this name (or id).")
]
CampaignOption = Annotated[
    str | None, typer.Option("--campaign", help="Leads of the campaign with this name (or id).")
]
SmartViewOption = Annotated[
    str | None, typer.Option("--smart-view", help="AND the smart view with this name (or id).")
]
FilterOption = Annotated[
    str | None,
    typer.Option(
        "--filter", help="A filter value, e.g. FILTER_LEAD_INTERESTED, FILTER_VAL_REPLIED."
    ),
]
SearchOption = Annotated[
    str | None, typer.Option("--search", help="Substring of first/last name or email.")
]
