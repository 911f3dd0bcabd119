"""The selection language (spec section 4), through ``POST /api/v2/leads/list``.

Every case writes leads that must be selected and leads that must not, and asserts the
exact set of ids the selection answers.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from leadroute.campaigns.models import Campaign
from leadroute.db.session import Database
from leadroute.ids import utcnow
from leadroute.lead_labels.models import LeadLabel
from leadroute.lead_lists.models import LeadList
from leadroute.leads.models import Lead
from leadroute.members.models import User, WorkspaceMember
from leadroute.selection import (
    FILTERS,
    FilterValue,
    LeadSelection,
    ResolvedSelection,
    resolve_selection,
)
from leadroute.smart_views.models import SmartView
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads

NOW = utcnow()
RECENTLY = NOW - timedelta(days=2)
LONG_AGO = NOW - timedelta(days=10)
UNKNOWN_ID = "0190b6e4-0000-7000-8000-000000000000"


# --- helpers shared by the other selection-based test modules ------------------------------


def add_campaign(db: Database, workspace_id: str, name: str = "Campaign") -> str:
    with db.write_sessions.begin() as session:
        campaign = Campaign(workspace_id=uuid.UUID(workspace_id), name=name)
        session.add(campaign)
        session.flush()
        return str(campaign.id)


def add_list(db: Database, workspace_id: str, name: str = "List") -> str:
    with db.write_sessions.begin() as session:
        lead_list = LeadList(workspace_id=uuid.UUID(workspace_id), name=name)
        session.add(lead_list)
        session.flush()
        return str(lead_list.id)


def add_member(db: Database, workspace_id: str, email: str) -> str:
    """A user and an accepted membership; returns the user id (what leads are assigned to)."""
    with db.write_sessions.begin() as session:
        user = User(email=email)
        session.add(user)
        session.flush()
        session.add(
            WorkspaceMember(workspace_id=uuid.UUID(workspace_id), user_id=user.id, role="editor")
        )
        return str(user.id)


def add_label(db: Database, workspace_id: str, interest_status: int, sentiment: str) -> None:
    with db.write_sessions.begin() as session:
        session.add(
            LeadLabel(
                workspace_id=uuid.UUID(workspace_id),
                label=f"Label {interest_status}",
                interest_status=interest_status,
                interest_status_label=sentiment,
            )
        )


def selected_ids(client: TestClient, body: dict[str, Any]) -> list[str]:
    """Every id the selection answers, following the pages."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page_body = {**body, "limit": 100}
        if cursor:
            page_body["starting_after"] = cursor
        response = client.post("/api/v2/leads/list", json=page_body)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page.get("next_starting_after")
        if not cursor:
            return ids


def assert_selects(
    api: TestClient,
    db: Database,
    workspace: WorkspaceClient,
    body: dict[str, Any],
    matching: list[dict[str, Any]],
    others: list[dict[str, Any]],
) -> None:
    """Writes ``others`` then ``matching``; the selection answers exactly ``matching``."""
    insert_leads(db, workspace.workspace_id, others)
    expected = insert_leads(db, workspace.workspace_id, matching)
    assert selected_ids(api, body) == expected


# --- filter -----------------------------------------------------------------------------

FILTER_CASES: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "FILTER_VAL_CONTACTED": ([{"timestamp_last_contact": RECENTLY}], [{}]),
    "FILTER_VAL_NOT_CONTACTED": ([{}], [{"timestamp_last_contact": RECENTLY}]),
    "FILTER_VAL_COMPLETED": ([{"status": 3}], [{"status": 1}, {"status": -2}]),
    "FILTER_VAL_UNSUBSCRIBED": ([{"status": -2}], [{"status": 1}, {"status": 3}]),
    "FILTER_VAL_ACTIVE": ([{"status": 1}], [{"status": 2}, {"status": 3}]),
    "FILTER_VAL_BOUNCED": ([{"status": -1}], [{"status": 1}, {"status": -2}]),
    "FILTER_VAL_SKIPPED": ([{"status": -3}], [{"status": 1}, {"status": -1}]),
    "FILTER_LEAD_INTERESTED": (
        [{"lt_interest_status": 1}],
        [{"lt_interest_status": 2}, {"lt_interest_status": None}],
    ),
    "FILTER_LEAD_MEETING_BOOKED": (
        [{"lt_interest_status": 2}],
        [{"lt_interest_status": 1}, {"lt_interest_status": None}],
    ),
    "FILTER_LEAD_MEETING_COMPLETED": (
        [{"lt_interest_status": 3}],
        [{"lt_interest_status": 2}, {"lt_interest_status": 4}],
    ),
    "FILTER_LEAD_CLOSED": (
        [{"lt_interest_status": 4}],
        [{"lt_interest_status": 3}, {"lt_interest_status": None}],
    ),
    "FILTER_LEAD_OUT_OF_OFFICE": (
        [{"lt_interest_status": 0}],
        [{"lt_interest_status": None}, {"lt_interest_status": 1}],
    ),
    "FILTER_LEAD_NOT_INTERESTED": (
        [{"lt_interest_status": -1}],
        [{"lt_interest_status": 1}, {"lt_interest_status": None}],
    ),
    "FILTER_LEAD_WRONG_PERSON": (
        [{"lt_interest_status": -2}],
        [{"lt_interest_status": -1}, {"lt_interest_status": -3}],
    ),
    "FILTER_LEAD_LOST": (
        [{"lt_interest_status": -3}],
        [{"lt_interest_status": -4}, {"lt_interest_status": 4}],
    ),
    "FILTER_LEAD_NO_SHOW": (
        [{"lt_interest_status": -4}],
        [{"lt_interest_status": -3}, {"lt_interest_status": None}],
    ),
    "FILTER_VAL_VALID": (
        [{"verification_status": 1}],
        [{"verification_status": -1}, {"verification_status": 11}, {}],
    ),
    "FILTER_VAL_INVALID": (
        [{"verification_status": -1}],
        [{"verification_status": 1}, {"verification_status": -2}, {}],
    ),
    "FILTER_VAL_RISKY": (
        [{"verification_status": -2}, {"verification_status": -3}],
        [{"verification_status": -1}, {"verification_status": 1}, {}],
    ),
    "FILTER_VAL_IN_SUBSEQUENCE": ([{"subsequence_id": uuid.uuid4()}], [{}]),
    "FILTER_VAL_OPENED_NO_REPLY": (
        [{"email_open_count": 2, "email_reply_count": 0}],
        [
            {"email_open_count": 0, "email_reply_count": 0},
            {"email_open_count": 2, "email_reply_count": 1},
        ],
    ),
    "FILTER_VAL_COMPLETED_NO_REPLY": (
        [{"status": 3, "email_reply_count": 0}],
        [{"status": 3, "email_reply_count": 1}, {"status": 1, "email_reply_count": 0}],
    ),
    "FILTER_VAL_NO_OPENS": (
        [{"timestamp_last_contact": RECENTLY, "email_open_count": 0}],
        [{"email_open_count": 0}, {"timestamp_last_contact": RECENTLY, "email_open_count": 1}],
    ),
    "FILTER_VAL_REPLIED": ([{"email_reply_count": 1}], [{"email_reply_count": 0}]),
    "FILTER_VAL_LINK_CLICKED": (
        [{"email_click_count": 1}],
        [{"email_click_count": 0, "email_open_count": 3}],
    ),
}


@pytest.mark.parametrize("value", sorted(FILTER_CASES))
def test_each_filter_selects_exactly_its_leads(
    api: TestClient, db: Database, workspace: WorkspaceClient, value: str
) -> None:
    matching, others = FILTER_CASES[value]
    assert_selects(api, db, workspace, {"filter": value}, matching, others)


@pytest.mark.parametrize(
    ("value", "sentiment"),
    [
        ("FILTER_LEAD_CUSTOM_LABEL_POSITIVE", "positive"),
        ("FILTER_LEAD_CUSTOM_LABEL_NEGATIVE", "negative"),
    ],
)
def test_custom_label_filters_read_the_labels_of_this_workspace(
    api: TestClient,
    db: Database,
    workspace: WorkspaceClient,
    other_workspace: WorkspaceClient,
    value: str,
    sentiment: str,
) -> None:
    opposite = "negative" if sentiment == "positive" else "positive"
    add_label(db, workspace.workspace_id, 10, sentiment)
    add_label(db, workspace.workspace_id, 11, sentiment)
    add_label(db, workspace.workspace_id, 12, opposite)
    add_label(db, workspace.workspace_id, 13, "neutral")
    # Another workspace's label of that sentiment gives no meaning to 14 here.
    add_label(db, other_workspace.workspace_id, 14, sentiment)
    assert_selects(
        api,
        db,
        workspace,
        {"filter": value},
        matching=[{"lt_interest_status": 10}, {"lt_interest_status": 11}],
        others=[
            {"lt_interest_status": 12},
            {"lt_interest_status": 13},
            {"lt_interest_status": 14},
            {"lt_interest_status": 1},
            {"lt_interest_status": None},
        ],
    )


def test_every_filter_value_of_the_contract_is_covered() -> None:
    values = set(get_args(FilterValue))
    assert len(values) == 27
    assert set(FILTERS) == values
    assert (
        set(FILTER_CASES)
        | {
            "FILTER_LEAD_CUSTOM_LABEL_POSITIVE",
            "FILTER_LEAD_CUSTOM_LABEL_NEGATIVE",
        }
        == values
    )


def test_an_unknown_filter_is_400_naming_the_field(api: TestClient) -> None:
    response = api.post("/api/v2/leads/list", json={"filter": "FILTER_VAL_SOMETHING"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("`filter`")


# --- queries ----------------------------------------------------------------------------

COUNTERS = {
    "reply": ("email_reply_count", "timestamp_last_reply"),
    "email-open": ("email_open_count", "timestamp_last_open"),
    "link-click": ("email_click_count", "timestamp_last_click"),
}


def _query_cases() -> list[Any]:
    cases: list[Any] = []
    for action, (counter, stamp) in COUNTERS.items():
        cases += [
            pytest.param(
                [{"actionType": action, "values": {"occurrence-days": 7}}],
                [{stamp: RECENTLY, counter: 1}],
                [{stamp: LONG_AGO, counter: 5}, {counter: 3}],
                id=f"{action}-occurrence-days",
            ),
            pytest.param(
                [
                    {
                        "actionType": action,
                        "values": {"occurrence-count": {"condition": "more", "count": 1}},
                    }
                ],
                [{counter: 2}, {counter: 7}],
                [{counter: 1}, {counter: 0}],
                id=f"{action}-count-more",
            ),
            pytest.param(
                [
                    {
                        "actionType": action,
                        "values": {"occurrence-count": {"condition": "less", "count": 2}},
                    }
                ],
                [{counter: 0}, {counter: 1}],
                [{counter: 2}, {counter: 3}],
                id=f"{action}-count-less",
            ),
            pytest.param(
                [
                    {
                        "actionType": action,
                        "values": {"occurrence-count": {"condition": "equal", "count": 1}},
                    }
                ],
                [{counter: 1}],
                [{counter: 0}, {counter: 2}],
                id=f"{action}-count-equal",
            ),
            pytest.param(
                [
                    {
                        "actionType": action,
                        "values": {
                            "occurrence-days": 7,
                            "occurrence-count": {"condition": "more", "count": 1},
                        },
                    }
                ],
                [{stamp: RECENTLY, counter: 2}],
                [{stamp: RECENTLY, counter: 1}, {stamp: LONG_AGO, counter: 2}],
                id=f"{action}-days-and-count",
            ),
        ]
    cases += [
        pytest.param(
            [{"actionType": "last-contacted", "values": {"occurrence-days": 7}}],
            [{"timestamp_last_contact": RECENTLY}],
            [{"timestamp_last_contact": LONG_AGO}, {}],
            id="last-contacted-occurrence-days",
        ),
        pytest.param(
            [{"actionType": "last-contacted", "values": {"occurrence-days": 2.5}}],
            [{"timestamp_last_contact": RECENTLY}],
            [{"timestamp_last_contact": NOW - timedelta(days=3)}],
            id="last-contacted-fractional-days",
        ),
        pytest.param(
            [
                {
                    "actionType": "lead-status",
                    "values": {"lead-status": {"status": 1, "condition": "is"}},
                }
            ],
            [{"lt_interest_status": 1}],
            [{"lt_interest_status": 2}, {"lt_interest_status": None}],
            id="lead-status-is",
        ),
        pytest.param(
            [
                {
                    "actionType": "lead-status",
                    "values": {"lead-status": {"status": 1, "condition": "is-not"}},
                }
            ],
            [{"lt_interest_status": 2}, {"lt_interest_status": None}, {"lt_interest_status": 0}],
            [{"lt_interest_status": 1}],
            id="lead-status-is-not-also-matches-none",
        ),
        pytest.param(
            [{"actionType": "lead-status-change", "values": {"occurrence-days": 7}}],
            [{"timestamp_last_interest_change": RECENTLY, "lt_interest_status": 1}],
            [{"timestamp_last_interest_change": LONG_AGO, "lt_interest_status": 1}, {}],
            id="lead-status-change-occurrence-days",
        ),
        pytest.param(
            [
                {
                    "actionType": "lead-status-change",
                    "values": {
                        "occurrence-days": 7,
                        "lead-status": {"status": 2, "condition": "is"},
                    },
                }
            ],
            [{"timestamp_last_interest_change": RECENTLY, "lt_interest_status": 2}],
            [
                {"timestamp_last_interest_change": RECENTLY, "lt_interest_status": 1},
                {"timestamp_last_interest_change": LONG_AGO, "lt_interest_status": 2},
                {"lt_interest_status": 2},
            ],
            id="lead-status-change-days-and-status-is",
        ),
        pytest.param(
            [
                {
                    "actionType": "lead-status-change",
                    "values": {"lead-status": {"status": 2, "condition": "is-not"}},
                }
            ],
            [
                {"timestamp_last_interest_change": LONG_AGO, "lt_interest_status": 1},
                {"timestamp_last_interest_change": RECENTLY, "lt_interest_status": None},
            ],
            [
                {"timestamp_last_interest_change": RECENTLY, "lt_interest_status": 2},
                {"lt_interest_status": 1},
            ],
            id="lead-status-change-status-is-not",
        ),
        pytest.param(
            [
                {"actionType": "reply", "values": {"occurrence-days": 7}},
                {
                    "actionType": "email-open",
                    "values": {"occurrence-count": {"condition": "more", "count": 2}},
                },
            ],
            [{"timestamp_last_reply": RECENTLY, "email_open_count": 3}],
            [
                {"timestamp_last_reply": RECENTLY, "email_open_count": 2},
                {"timestamp_last_reply": LONG_AGO, "email_open_count": 3},
            ],
            id="several-clauses-are-anded",
        ),
    ]
    return cases


@pytest.mark.parametrize(("queries", "matching", "others"), _query_cases())
def test_each_query_clause_selects_exactly_its_leads(
    api: TestClient,
    db: Database,
    workspace: WorkspaceClient,
    queries: list[dict[str, Any]],
    matching: list[dict[str, Any]],
    others: list[dict[str, Any]],
) -> None:
    assert_selects(api, db, workspace, {"queries": queries}, matching, others)


@pytest.mark.parametrize(
    ("clause", "field"),
    [
        pytest.param(
            {"actionType": "bounce", "values": {"occurrence-days": 1}},
            "queries.0.actionType",
            id="unknown-action-type",
        ),
        pytest.param({"values": {"occurrence-days": 1}}, "queries.0.actionType", id="no-action"),
        pytest.param({"actionType": "reply"}, "queries.0.values", id="no-values"),
        pytest.param({"actionType": "reply", "values": {}}, "queries.0", id="no-usable-value"),
        pytest.param(
            {"actionType": "reply", "values": {"occurrence-days": None}},
            "queries.0",
            id="null-value",
        ),
        pytest.param(
            {"actionType": "reply", "values": {"lead-status": {"status": 1, "condition": "is"}}},
            "queries.0",
            id="value-the-action-does-not-read",
        ),
        pytest.param(
            {
                "actionType": "last-contacted",
                "values": {"occurrence-count": {"condition": "more", "count": 1}},
            },
            "queries.0",
            id="last-contacted-has-no-counter",
        ),
        pytest.param(
            {"actionType": "lead-status", "values": {"occurrence-days": 3}},
            "queries.0",
            id="lead-status-needs-a-status",
        ),
        pytest.param(
            {"actionType": "reply", "values": {"occurrence-days": -1}},
            "queries.0.values.occurrence-days",
            id="negative-days",
        ),
        pytest.param(
            {"actionType": "reply", "values": {"occurrence-days": 1_000_000}},
            "queries.0.values.occurrence-days",
            id="days-beyond-a-century",
        ),
        pytest.param(
            {
                "actionType": "reply",
                "values": {"occurrence-count": {"condition": "more", "count": -1}},
            },
            "queries.0.values.occurrence-count.count",
            id="negative-count",
        ),
        pytest.param(
            {
                "actionType": "reply",
                "values": {"occurrence-count": {"condition": "most", "count": 1}},
            },
            "queries.0.values.occurrence-count.condition",
            id="unknown-count-condition",
        ),
        pytest.param(
            {"actionType": "lead-status", "values": {"lead-status": {"status": 1}}},
            "queries.0.values.lead-status.condition",
            id="status-without-condition",
        ),
        pytest.param(
            {
                "actionType": "lead-status",
                "values": {"lead-status": {"status": 1, "condition": "was"}},
            },
            "queries.0.values.lead-status.condition",
            id="unknown-status-condition",
        ),
    ],
)
def test_a_bad_query_clause_is_400_naming_it(
    api: TestClient, clause: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v2/leads/list", json={"queries": [clause]})
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"`{field}`"), response.json()["message"]


# --- search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "matching", "others"),
    [
        pytest.param(
            "nNe",
            [{"first_name": "Anne"}],
            [{"first_name": "Ann"}, {"last_name": "Annabel"}],
            id="first-name-any-case",
        ),
        pytest.param(
            "SMITH",
            [{"last_name": "Goldsmith"}],
            [{"first_name": "Smit"}, {"email": "smit@h.test"}],
            id="last-name-any-case",
        ),
        pytest.param(
            "@Acme.TEST",
            [{"email": "anne@acme.test"}, {"email": "BOB@ACME.TEST"}],
            [{"email": "anne@acme.org"}, {"first_name": "acme.test"}],
            id="email-any-case",
        ),
        pytest.param(
            "anne smi",
            [{"first_name": "Anne", "last_name": "Smith"}],
            [
                {"first_name": "Anne", "last_name": "Jones"},
                {"first_name": "Smith", "last_name": "Anne"},
            ],
            id="first-space-last",
        ),
        pytest.param(
            "smithanne",
            [],
            [{"first_name": "Bob", "last_name": "Smith", "email": "anne@x.test"}],
            id="never-spans-last-name-and-email",
        ),
        pytest.param(
            "100%",
            [{"first_name": "100% Sure"}],
            [{"first_name": "1000 Sure"}, {"first_name": "100 Sure"}],
            id="percent-is-literal",
        ),
        pytest.param(
            "a_b",
            [{"email": "a_b@x.test"}],
            [{"email": "axb@x.test"}, {"email": "ab@x.test"}],
            id="underscore-is-literal",
        ),
        pytest.param(
            "a\\b",
            [{"last_name": "a\\b"}],
            [{"last_name": "ab"}, {"last_name": "a\\\\b"}],
            id="backslash-is-literal",
        ),
    ],
)
def test_search_is_a_case_insensitive_substring(
    api: TestClient,
    db: Database,
    workspace: WorkspaceClient,
    term: str,
    matching: list[dict[str, Any]],
    others: list[dict[str, Any]],
) -> None:
    assert_selects(api, db, workspace, {"search": term}, matching, others)


def test_search_compiles_to_a_lookup_in_the_search_table() -> None:
    """``search`` matches ``lead_search.search_text``, the column the trigram index covers,
    never an expression over ``leads``' own columns (which no index would serve)."""
    resolved = ResolvedSelection(
        workspace_id=uuid.uuid4(), selection=LeadSelection(search="Ann"), now=NOW
    )
    sql = str(select(Lead.id).where(resolved.where()).compile(dialect=postgresql.dialect()))
    # Correlated to the outer lead: the subquery reads lead_search alone.
    assert (
        "EXISTS (SELECT lead_search.lead_id \nFROM lead_search \n"
        "WHERE lead_search.lead_id = leads.id AND lead_search.search_text LIKE %("
    ) in sql
    assert "first_name" not in sql


# --- campaign, list, ids, contacts, owners ----------------------------------------------


@pytest.mark.parametrize("container", ["campaign", "list"])
@pytest.mark.parametrize(
    ("shape", "wanted"),
    [
        ("id", {"mine"}),
        ("id-in-true", {"mine"}),
        ("id-in-false", {"theirs", "none"}),
        ("in-true", {"mine", "theirs"}),
        ("in-false", {"none"}),
    ],
)
def test_campaign_and_list_membership(
    api: TestClient,
    db: Database,
    workspace: WorkspaceClient,
    container: str,
    shape: str,
    wanted: set[str],
) -> None:
    add = add_campaign if container == "campaign" else add_list
    column = "campaign" if container == "campaign" else "list_id"
    flag = "in_campaign" if container == "campaign" else "in_list"
    mine = add(db, workspace.workspace_id, "Mine")
    theirs = add(db, workspace.workspace_id, "Theirs")
    leads = {"mine": {column: mine}, "theirs": {column: theirs}, "none": {}}
    body: dict[str, Any] = {}
    if shape.startswith("id"):
        body[column] = mine
    if shape.endswith("true"):
        body[flag] = True
    if shape.endswith("false"):
        body[flag] = False
    assert_selects(
        api,
        db,
        workspace,
        body,
        matching=[lead for name, lead in leads.items() if name in wanted],
        others=[lead for name, lead in leads.items() if name not in wanted],
    )


def test_ids_selects_those_leads_only(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    ids = insert_leads(db, workspace.workspace_id, [{} for _ in range(5)])
    assert selected_ids(api, {"ids": [ids[3], ids[1], UNKNOWN_ID]}) == [ids[1], ids[3]]


def test_an_empty_ids_list_selects_nothing(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    insert_leads(db, workspace.workspace_id, [{}, {}])
    assert selected_ids(api, {"ids": []}) == []
    assert selected_ids(api, {"contacts": []}) == []
    assert selected_ids(api, {"organization_user_ids": []}) == []


def test_excluded_ids_leaves_those_leads_out(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    ids = insert_leads(db, workspace.workspace_id, [{} for _ in range(4)])
    assert selected_ids(api, {"excluded_ids": [ids[0], ids[2]]}) == [ids[1], ids[3]]
    assert selected_ids(api, {"excluded_ids": []}) == ids
    assert selected_ids(api, {"ids": ids[:3], "excluded_ids": [ids[1]]}) == [ids[0], ids[2]]


def test_ten_thousand_ids_are_accepted_and_one_more_is_400(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    ids = insert_leads(db, workspace.workspace_id, [{} for _ in range(3)])
    many = [str(uuid.uuid4()) for _ in range(9_998)] + ids[:2]
    response = api.post(
        "/api/v2/leads/list", json={"ids": many, "excluded_ids": many[:10_000], "limit": 100}
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    response = api.post("/api/v2/leads/list", json={"ids": many, "limit": 100})
    assert [item["id"] for item in response.json()["items"]] == ids[:2]
    too_many = api.post("/api/v2/leads/list", json={"ids": [*many, ids[2]]})
    assert too_many.status_code == 400
    assert too_many.json()["message"].startswith("`ids`")


def test_contacts_match_emails_ignoring_case(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    assert_selects(
        api,
        db,
        workspace,
        {"contacts": ["ANNE@Acme.test", "bob@acme.test"]},
        matching=[{"email": "anne@acme.test"}, {"email": "Bob@ACME.test"}],
        others=[{"email": "anne@acme.testing"}, {"email": "carol@acme.test"}, {}],
    )


def test_a_contact_that_is_not_an_email_is_400(api: TestClient) -> None:
    response = api.post("/api/v2/leads/list", json={"contacts": ["anne@acme.test", "anne"]})
    assert response.status_code == 400
    assert response.json()["message"].startswith("`contacts.1`")


def test_organization_user_ids_selects_leads_assigned_to_those_users(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    editor = add_member(db, workspace.workspace_id, "editor@acme.test")
    bystander = add_member(db, workspace.workspace_id, "bystander@acme.test")
    # A former member's id is a plain filter value: their leads stay findable.
    former = str(uuid.uuid4())
    assert_selects(
        api,
        db,
        workspace,
        {"organization_user_ids": [workspace.owner_user_id, editor, former]},
        matching=[
            {"assigned_to": workspace.owner_user_id},
            {"assigned_to": editor},
            {"assigned_to": former},
        ],
        others=[{"assigned_to": bystander}, {}],
    )


def test_assigned_to_selects_the_current_owner(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    editor = add_member(db, workspace.workspace_id, "editor@acme.test")
    assert_selects(
        api,
        db,
        workspace,
        {"assigned_to": editor},
        matching=[{"assigned_to": editor}],
        others=[{"assigned_to": workspace.owner_user_id}, {}],
    )


def test_assigned_to_that_is_not_a_member_user_is_404(
    api: TestClient, other_workspace: WorkspaceClient
) -> None:
    for user_id in (UNKNOWN_ID, other_workspace.owner_user_id):
        response = api.post("/api/v2/leads/list", json={"assigned_to": user_id})
        assert response.status_code == 404
        assert response.json()["message"].startswith("`assigned_to`")


# --- plain column filters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "matching", "others"),
    [
        pytest.param(
            {"is_website_visitor": True},
            [{"is_website_visitor": True}],
            [{"is_website_visitor": False}, {}],
            id="website-visitor",
        ),
        pytest.param(
            {"is_website_visitor": False},
            [{"is_website_visitor": False}, {}],
            [{"is_website_visitor": True}],
            id="not-website-visitor-includes-unknown",
        ),
        pytest.param(
            {"enrichment_status": -2},
            [{"enrichment_status": -2}],
            [{"enrichment_status": 1}, {}],
            id="enrichment-status",
        ),
        pytest.param(
            {"esg_code": "0"},
            [{"esg_code": 0}],
            [{"esg_code": 1}, {}],
            id="esg-code-in-queue",
        ),
        pytest.param(
            {"esg_code": "3"},
            [{"esg_code": 3}],
            [{"esg_code": 2}, {"esg_code": 0}, {}],
            id="esg-code-proofpoint",
        ),
        pytest.param(
            {"esg_code": "none"},
            [{}],
            [{"esg_code": 0}, {"esg_code": 4}],
            id="esg-code-none-is-no-code",
        ),
        pytest.param(
            {"esg_code": "all"},
            [{}, {"esg_code": 0}, {"esg_code": 4}],
            [],
            id="esg-code-all-does-not-restrict",
        ),
    ],
)
def test_plain_column_filters(
    api: TestClient,
    db: Database,
    workspace: WorkspaceClient,
    body: dict[str, Any],
    matching: list[dict[str, Any]],
    others: list[dict[str, Any]],
) -> None:
    assert_selects(api, db, workspace, body, matching, others)


@pytest.mark.parametrize(
    "body",
    [{"esg_code": "5"}, {"esg_code": 1}, {"enrichment_status": 2}, {"is_website_visitor": "x"}],
)
def test_plain_column_filters_outside_their_enum_are_400(
    api: TestClient, body: dict[str, Any]
) -> None:
    response = api.post("/api/v2/leads/list", json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"`{next(iter(body))}`")


# --- smart views and combinations ------------------------------------------------------


def test_smart_view_id_ands_the_views_selection_with_the_requests_own_fields(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    view = api.post(
        "/api/v2/smart-views",
        json={"name": "Hot", "filter": "FILTER_LEAD_INTERESTED", "search": "acme"},
    ).json()
    assert_selects(
        api,
        db,
        workspace,
        {"smart_view_id": view["id"], "campaign": campaign},
        matching=[{"campaign": campaign, "lt_interest_status": 1, "email": "a@acme.test"}],
        others=[
            {"campaign": campaign, "lt_interest_status": 2, "email": "b@acme.test"},
            {"campaign": campaign, "lt_interest_status": 1, "email": "c@globex.test"},
            {"lt_interest_status": 1, "email": "d@acme.test"},
        ],
    )


def test_all_given_fields_are_anded(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    lead_list = add_list(db, workspace.workspace_id)
    assert_selects(
        api,
        db,
        workspace,
        {
            "list_id": lead_list,
            "filter": "FILTER_VAL_REPLIED",
            "search": "anne",
            "organization_user_ids": [workspace.owner_user_id],
        },
        matching=[
            {
                "list_id": lead_list,
                "email_reply_count": 1,
                "first_name": "Anne",
                "assigned_to": workspace.owner_user_id,
            }
        ],
        others=[
            {"list_id": lead_list, "email_reply_count": 1, "first_name": "Anne"},
            {
                "list_id": lead_list,
                "email_reply_count": 0,
                "first_name": "Anne",
                "assigned_to": workspace.owner_user_id,
            },
            {
                "email_reply_count": 1,
                "first_name": "Anne",
                "assigned_to": workspace.owner_user_id,
            },
            {
                "list_id": lead_list,
                "email_reply_count": 1,
                "first_name": "Bob",
                "assigned_to": workspace.owner_user_id,
            },
        ],
    )


# --- references and validation ---------------------------------------------------------


@pytest.mark.parametrize("field", ["campaign", "list_id", "smart_view_id"])
def test_an_unknown_reference_is_404_naming_the_field(api: TestClient, field: str) -> None:
    response = api.post("/api/v2/leads/list", json={field: UNKNOWN_ID})
    assert response.status_code == 404
    assert response.json()["message"].startswith(f"`{field}`")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("campaign", "nope"),
        ("list_id", "12345"),
        ("smart_view_id", "x"),
        ("assigned_to", "owner"),
        ("ids", ["not-a-uuid"]),
        ("excluded_ids", [UNKNOWN_ID, "nope"]),
        ("organization_user_ids", ["nope"]),
        ("starting_after", "nope"),
        ("in_campaign", "perhaps"),
        ("ids", "not-a-list"),
    ],
)
def test_a_malformed_value_is_400_naming_the_field(api: TestClient, field: str, value: Any) -> None:
    response = api.post("/api/v2/leads/list", json={field: value})
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"`{field}"), response.json()["message"]


# --- workspaces ------------------------------------------------------------------------


def test_another_workspace_never_sees_these_leads_through_any_selection(
    api: TestClient, db: Database, workspace: WorkspaceClient, other_workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    lead_list = add_list(db, workspace.workspace_id)
    view = api.post("/api/v2/smart-views", json={"name": "All"}).json()
    theirs = insert_leads(
        db,
        workspace.workspace_id,
        [
            {"campaign": campaign, "email": "anne@acme.test", "first_name": "Anne"},
            {"list_id": lead_list, "email_reply_count": 2, "assigned_to": workspace.owner_user_id},
        ],
    )
    own = insert_leads(db, other_workspace.workspace_id, [{"email": "zed@globex.test"}])
    intruder = other_workspace.client
    assert selected_ids(intruder, {}) == own
    assert selected_ids(intruder, {"ids": theirs}) == []
    assert selected_ids(intruder, {"excluded_ids": own}) == []
    assert selected_ids(intruder, {"contacts": ["anne@acme.test"]}) == []
    assert selected_ids(intruder, {"search": "anne"}) == []
    assert selected_ids(intruder, {"filter": "FILTER_VAL_REPLIED"}) == []
    assert selected_ids(intruder, {"organization_user_ids": [workspace.owner_user_id]}) == []
    assert selected_ids(intruder, {"in_campaign": True}) == []
    for body in (
        {"campaign": campaign},
        {"list_id": lead_list},
        {"smart_view_id": view["id"]},
        {"assigned_to": workspace.owner_user_id},
    ):
        response = intruder.post("/api/v2/leads/list", json=body)
        assert response.status_code == 404, body


# --- the module's interface ------------------------------------------------------------


def test_a_resolved_selection_round_trips_through_json_and_compiles_the_same(
    db: Database, workspace: WorkspaceClient
) -> None:
    """A job stores the resolved selection and compiles it again for every chunk."""
    ids = insert_leads(
        db,
        workspace.workspace_id,
        [
            {"timestamp_last_reply": RECENTLY, "lt_interest_status": 1},
            {"timestamp_last_reply": LONG_AGO, "lt_interest_status": 1},
            {"timestamp_last_reply": RECENTLY, "lt_interest_status": 2},
        ],
    )
    with db.write_sessions.begin() as session:
        view = SmartView(
            workspace_id=uuid.UUID(workspace.workspace_id),
            name="Interested",
            selection={"filter": "FILTER_LEAD_INTERESTED"},
        )
        session.add(view)
        session.flush()
        selection = LeadSelection.model_validate(
            {
                "smart_view_id": str(view.id),
                "queries": [{"actionType": "reply", "values": {"occurrence-days": 7}}],
            }
        )
        resolved = resolve_selection(session, uuid.UUID(workspace.workspace_id), selection, now=NOW)
        stored = resolved.model_dump(mode="json")
        session.delete(view)
    assert stored["selection"]["queries"] == [
        {"actionType": "reply", "values": {"occurrence-days": 7.0}}
    ]
    assert stored["smart_view"]["filter"] == "FILTER_LEAD_INTERESTED"
    again = ResolvedSelection.model_validate(stored)
    assert again.now == NOW
    assert again == resolved
    with db.read_sessions() as session:
        found = session.scalars(select(Lead.id).where(again.where()).order_by(Lead.id)).all()
    # The view's selection was frozen at resolve time: deleting the view changes nothing.
    assert [str(lead_id) for lead_id in found] == [ids[0]]


def test_occurrence_days_count_back_from_the_resolved_instant(
    db: Database, workspace: WorkspaceClient
) -> None:
    ids = insert_leads(db, workspace.workspace_id, [{"timestamp_last_open": LONG_AGO}])
    selection = LeadSelection.model_validate(
        {"queries": [{"actionType": "email-open", "values": {"occurrence-days": 3}}]}
    )
    workspace_id = uuid.UUID(workspace.workspace_id)

    def selected(now: datetime) -> list[str]:
        with db.read_sessions() as session:
            resolved = resolve_selection(session, workspace_id, selection, now=now)
            return [str(i) for i in session.scalars(select(Lead.id).where(resolved.where()))]

    assert selected(NOW) == []
    assert selected(LONG_AGO + timedelta(days=1)) == ids


@pytest.mark.engine("postgresql")
def test_the_search_predicate_can_be_served_by_the_trigram_index_on_postgresql(
    db: Database, workspace: WorkspaceClient
) -> None:
    """The compiled ``search`` predicate is served by the trigram index of ``lead_search``.

    If they drifted apart, PostgreSQL could not use the index at all and would fall back to a
    (here forbidden) sequential scan. Which index the planner picks for a whole selection
    depends on the data; at a million leads it is this one (docs/benchmarks.md, item 4).
    """
    insert_leads(db, workspace.workspace_id, [{"email": f"x{i}@e.test"} for i in range(200)])
    resolved = ResolvedSelection(
        workspace_id=uuid.UUID(workspace.workspace_id),
        selection=LeadSelection(search="smith"),
        now=NOW,
    )
    search_only = [clause for clause in resolved.where().clauses if "LIKE" in str(clause).upper()]
    assert len(search_only) == 1
    compiled = select(Lead.id).where(search_only[0]).compile(dialect=postgresql.dialect())
    with db.write_sessions() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        plan = "\n".join(str(row[0]) for row in rows)
        session.rollback()
    assert "ix_lead_search_search_text_trgm" in plan, plan
