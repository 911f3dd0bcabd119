"""``leadroute demo``: a workspace full of realistic, fictional data, through the API.

Decisions:

- It goes through the public API like every operator command (members, lead labels,
  lists, campaigns, ``/leads/add``, ``/lead-activities``, ``/smart-views``), so it fills any
  running leadroute and needs no database access.
- Deterministic: ``--seed`` fixes every name, email, destination, owner, interest status
  and sequence of events. Event times are offsets back from the moment the demo runs, so
  "in the last N days" filters find leads whatever the day.
- Engagement comes from a sending engine's events, as the contract intends: campaign leads
  are verified, sent up to three steps, and open, click, reply, bounce, unsubscribe or
  complete with plausible rates; list leads are not contacted. A reply carries an interest
  status (static, or the demo's "Referral" lead label).
- About half the leads get an owner at import, unevenly (the first members own more), so
  ``assign --unassigned`` and ``--strategy balanced`` have something to show.
- Running it again adds nothing: existing members, labels, lists, campaigns and smart views
  are reused by name, leads already there are skipped as duplicates, and events are sent
  only for leads this run created.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from leadroute.cli_ops import demo_data
from leadroute.cli_ops.common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    MemberDirectory,
    UrlOption,
    connected,
    console,
    echo_json,
    find_campaign,
    find_lead_list,
    find_smart_view,
)
from leadroute.cli_ops.leads import DEFAULT_CAMPAIGN_SCHEDULE
from leadroute.client import MAX_ACTIVITY_BATCH, MAX_IMPORT_BATCH, Client, JsonObject, Member

# (kind, name, share of the leads, custom variable `source`)
DESTINATIONS = (
    ("campaign", "Outbound - SaaS founders", 0.34, "outbound"),
    ("campaign", "Follow-up - Fintech", 0.22, "outbound"),
    ("list", "Conference 2025", 0.22, "conference"),
    ("list", "Webinar signups", 0.14, "webinar"),
    ("list", "Inbound demo requests", 0.08, "inbound"),
)
REFERRAL_LABEL = "Referral"
SMART_VIEW = ("Replied, not yet won", {"filter": "FILTER_VAL_REPLIED"})

VERIFICATION_RESULTS = (
    ("valid", 86),
    ("risky", 5),
    ("catch_all", 4),
    ("invalid", 3),
    ("pending", 2),
)
# Interest status of a lead that replied; None stands for the demo's custom lead label.
REPLY_INTEREST: tuple[tuple[int | None, int], ...] = (
    (1, 30),  # interested
    (2, 15),  # meeting booked
    (3, 7),  # meeting completed
    (4, 5),  # won
    (0, 8),  # out of office
    (-1, 18),  # not interested
    (-2, 5),  # wrong person
    (-3, 4),  # lost
    (-4, 3),  # no show
    (None, 5),  # Referral (custom label, positive)
)
STEP_DELAYS_DAYS = (0, 3, 7)
PERSONALIZATION = (
    "Saw {company} is hiring in {city} - congrats on the growth.",
    "Enjoyed your post about scaling {industry} teams.",
    "Noticed {company} just opened an office in {city}.",
    "Your team at {company} came up in a conversation about {industry}.",
    "",
)


@dataclass
class DemoLead:
    destination: int
    item: JsonObject
    events: list[JsonObject] = field(default_factory=list)


@dataclass
class DemoPlan:
    leads: list[DemoLead]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def weighted(rng: random.Random, choices: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in choices], [weight for _, weight in choices])[0]


def plan_leads(
    rng: random.Random,
    count: int,
    owners: Sequence[str],
    referral_status: int,
    now: datetime,
) -> DemoPlan:
    """Every lead and its events, from the seeded generator alone (plus ``now``)."""
    emails: set[str] = set()
    leads: list[DemoLead] = []
    shares = [share for _, _, share, _ in DESTINATIONS]
    # The first members own more: an uneven start that `--strategy balanced` evens out.
    owner_weights = [len(owners) - index for index in range(len(owners))]
    for _ in range(count):
        destination = rng.choices(range(len(DESTINATIONS)), shares)[0]
        kind, _, _, source = DESTINATIONS[destination]
        first = rng.choice(demo_data.FIRST_NAMES)
        last = rng.choice(demo_data.LAST_NAMES)
        company, domain, industry, size = rng.choice(demo_data.COMPANIES)
        city = rng.choice(demo_data.CITIES)
        email = unique_email(first, last, domain, emails)
        personalization = rng.choice(PERSONALIZATION).format(
            company=company, city=city, industry=industry.lower()
        )
        item: JsonObject = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "company_name": company,
            "job_title": rng.choice(demo_data.JOB_TITLES),
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "website": f"https://www.{domain}.example",
            "custom_variables": {
                "industry": industry,
                "company_size": size,
                "city": city,
                "source": source,
            },
        }
        if personalization:
            item["personalization"] = personalization
        if owners and rng.random() < 0.5:
            item["assigned_to"] = rng.choices(owners, owner_weights)[0]
        lead = DemoLead(destination, item)
        if kind == "campaign":
            campaign_history(rng, lead, now, referral_status)
        elif source == "inbound" and rng.random() < 0.3:
            item["lt_interest_status"] = 1
        leads.append(lead)
    return DemoPlan(leads)


def unique_email(first: str, last: str, domain: str, taken: set[str]) -> str:
    base = f"{first}.{last}".lower()
    email = f"{base}@{domain}.example"
    number = 1
    while email in taken:
        number += 1
        email = f"{base}{number}@{domain}.example"
    taken.add(email)
    return email


def campaign_history(rng: random.Random, lead: DemoLead, now: datetime, referral: int) -> None:
    """What a sending engine would have reported for one campaign lead."""
    start = now - timedelta(days=rng.uniform(1, 60))

    def event(kind: str, moment: datetime, **extra: Any) -> None:
        lead.events.append({"type": kind, "timestamp": iso(min(moment, now)), **extra})

    result = weighted(rng, VERIFICATION_RESULTS)
    event("verification", start - timedelta(hours=rng.uniform(1, 48)), result=result)
    if result == "invalid" or rng.random() < 0.2:
        return  # not contacted (yet)
    variant = rng.randint(0, 1)
    sends = [start + timedelta(days=delay) for delay in STEP_DELAYS_DAYS]
    sends = [moment for moment in sends if moment < now]
    for step, moment in enumerate(sends):
        event("sent", moment, step=step, variant=variant)
        after = moment + timedelta(minutes=rng.uniform(5, 600))
        if step == 0 and rng.random() < 0.03:
            event("bounced", after)
            return
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 3)):
                event(
                    "opened",
                    after + timedelta(hours=rng.uniform(0, 30)),
                    step=step,
                    variant=variant,
                )
            if rng.random() < 0.2:
                event(
                    "clicked",
                    after + timedelta(hours=rng.uniform(0, 30)),
                    step=step,
                    variant=variant,
                )
            if rng.random() < 0.22:
                event(
                    "replied",
                    after + timedelta(hours=rng.uniform(1, 48)),
                    step=step,
                    variant=variant,
                )
                status = weighted(rng, REPLY_INTEREST)
                lead.item["lt_interest_status"] = referral if status is None else status
                return
        if rng.random() < 0.01:
            event("unsubscribed", after)
            return
    if len(sends) == len(STEP_DELAYS_DAYS) and rng.random() < 0.7:
        event("completed", sends[-1] + timedelta(days=rng.uniform(1, 3)))


@dataclass
class DemoResult:
    members: list[Member]
    created_members: int
    destinations: list[JsonObject]
    leads_created: int
    leads_skipped: int
    activities_applied: int
    smart_view: str


def demo(
    seed: Annotated[int, typer.Option(help="The same seed gives the same data.")] = 42,
    leads: Annotated[int, typer.Option(min=1, max=200_000, help="How many leads.")] = 5000,
    members: Annotated[
        int,
        typer.Option(min=1, max=len(demo_data.MEMBERS), help="How many team members."),
    ] = 6,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fill the workspace with realistic fictional members, lists, campaigns and leads.

    Leads have varied owners, interest statuses and engagement (opens, replies, bounces...),
    so every filter and `leadroute assign` have something to show. Running it again adds
    nothing.
    """
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with connected(url, api_key) as client:
        team, created_members = ensure_members(client, members)
        referral = ensure_referral_label(client)
        plan = plan_leads(rng, leads, [member.user_id for member in team], referral, now)
        ids = ensure_destinations(client)
        result = load_plan(client, plan, ids)
        smart_view = ensure_smart_view(client)
    summary = DemoResult(
        members=team,
        created_members=created_members,
        destinations=[
            {"kind": kind, "name": name, "id": ids[index], "leads": per_destination(plan, index)}
            for index, (kind, name, _, _) in enumerate(DESTINATIONS)
        ],
        leads_created=result[0],
        leads_skipped=len(plan.leads) - result[0],
        activities_applied=result[1],
        smart_view=smart_view,
    )
    if as_json:
        echo_json(
            {
                "seed": seed,
                "members": [member.email for member in summary.members],
                "created_members": summary.created_members,
                "destinations": summary.destinations,
                "leads_created": summary.leads_created,
                "leads_skipped": summary.leads_skipped,
                "activities_applied": summary.activities_applied,
                "smart_view": summary.smart_view,
            }
        )
    print_summary(summary)


def ensure_members(client: Client, count: int) -> tuple[list[Member], int]:
    directory = MemberDirectory.load(client)
    team: list[Member] = []
    created = 0
    for first, last in demo_data.MEMBERS[:count]:
        email = f"{first}.{last}@{demo_data.MEMBER_DOMAIN}".lower()
        member = directory.find(email)
        if member is None:
            member = client.create_member(email, "editor", nickname=first)
            created += 1
        team.append(member)
    return team, created


def ensure_referral_label(client: Client) -> int:
    for label in client.lead_labels():
        if label.label == REFERRAL_LABEL and label.interest_status is not None:
            return label.interest_status
    created = client.create_lead_label(REFERRAL_LABEL, "positive")
    assert created.interest_status is not None
    return created.interest_status


def ensure_destinations(client: Client) -> list[str]:
    ids = []
    for kind, name, _, _ in DESTINATIONS:
        if kind == "list":
            found = find_lead_list(client, name) or client.create_lead_list(name)
        else:
            found = find_campaign(client, name) or client.create_campaign(
                name, DEFAULT_CAMPAIGN_SCHEDULE
            )
        ids.append(found.id)
    return ids


def ensure_smart_view(client: Client) -> str:
    name, selection = SMART_VIEW
    if find_smart_view(client, name) is None:
        client.request("POST", "/smart-views", json={"name": name, **selection})
    return name


def per_destination(plan: DemoPlan, index: int) -> int:
    return sum(1 for lead in plan.leads if lead.destination == index)


def load_plan(client: Client, plan: DemoPlan, ids: list[str]) -> tuple[int, int]:
    """Imports the leads and sends the events of those created; answers both counts."""
    events: list[JsonObject] = []
    created = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        importing = progress.add_task("leads", total=len(plan.leads))
        for index, (kind, _, _, _) in enumerate(DESTINATIONS):
            group = [lead for lead in plan.leads if lead.destination == index]
            list_id, campaign_id = (ids[index], None) if kind == "list" else (None, ids[index])
            for start in range(0, len(group), MAX_IMPORT_BATCH):
                batch = group[start : start + MAX_IMPORT_BATCH]
                summary = client.add_leads(
                    [lead.item for lead in batch], list_id=list_id, campaign_id=campaign_id
                )
                created += summary.leads_uploaded
                for position, lead_id in summary.created.items():
                    events += [{**event, "lead_id": lead_id} for event in batch[position].events]
                progress.advance(importing, len(batch))
        events.sort(key=lambda event: event["timestamp"])
        sending = progress.add_task("engagement events", total=len(events))
        applied = 0
        for start in range(0, len(events), MAX_ACTIVITY_BATCH):
            batch_events = events[start : start + MAX_ACTIVITY_BATCH]
            applied += client.record_activities(batch_events)
            progress.advance(sending, len(batch_events))
    return created, applied


def print_summary(summary: DemoResult) -> None:
    console.print(
        f"[bold green]Demo ready[/bold green]: {summary.leads_created:,} leads created "
        f"({summary.leads_skipped:,} already there), {summary.activities_applied:,} "
        f"engagement events, {len(summary.members)} members "
        f"({summary.created_members} new)."
    )
    for destination in summary.destinations:
        console.print(
            f"  {destination['kind']:<8} {destination['name']!r}: {destination['leads']:,} leads",
            markup=False,
        )
    first, second = (
        summary.members[0].email,
        summary.members[min(1, len(summary.members) - 1)].email,
    )
    console.print("Try:", markup=False)
    for line in (
        'leadroute leads export --campaign "Outbound - SaaS founders" --filter FILTER_VAL_REPLIED',
        f'leadroute assign --to {first},{second} --list "Conference 2025" --dry-run',
        f"leadroute assign --to {first},{second} --unassigned --strategy balanced",
        "leadroute jobs list",
        f'leadroute leads export --smart-view "{summary.smart_view}" -o replied.csv',
    ):
        console.print(f"  {line}", markup=False)
