"""``POST /api/v2/leads/add``: up to 1000 leads into a campaign or a list, with a summary."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from leadroute.db.session import Database
from leadroute.leads.models import Lead
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads
from tests.test_leads_crud import UNKNOWN_ID, lead_count
from tests.test_selection import add_campaign, add_list, add_member
from tests.wire import assert_is_error, assert_matches_response, assert_matches_schema

EMPTY_SUMMARY = {
    "status": "success",
    "in_blocklist": 0,
    "blocklist_used": None,
    "duplicated_leads": 0,
    "skipped_count": 0,
    "invalid_email_count": 0,
    "incomplete_count": 0,
    "duplicate_email_count": 0,
    "remaining_in_plan": None,
}


def emails_in(
    db: Database, *, list_id: str | None = None, campaign: str | None = None
) -> list[str | None]:
    with db.read_sessions() as session:
        statement = select(Lead.email).order_by(Lead.id)
        if list_id is not None:
            statement = statement.where(Lead.list_id == uuid.UUID(list_id))
        if campaign is not None:
            statement = statement.where(Lead.campaign == uuid.UUID(campaign))
        return list(session.scalars(statement))


def test_a_mixed_batch_into_a_list_is_counted_rule_by_rule(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    target = add_list(db, workspace.workspace_id, "Target")
    campaign_id = add_campaign(db, workspace.workspace_id)
    insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": "elsewhere@acme.io", "campaign": campaign_id},
            {"email": "InList@acme.io", "list_id": target},
        ],
    )
    leads: list[dict[str, Any]] = [
        {"email": "new1@acme.io", "first_name": "Ann", "last_name": "A", "phone": "+1"},
        {"email": "NEW1@Acme.io", "first_name": "Ann again"},
        {"email": "Elsewhere@acme.io"},
        {"email": "not-an-email", "first_name": "Bad"},
        {"company_name": "Nobody"},
        {"email": "inlist@ACME.io"},
        {"first_name": "Only", "last_name": "Names"},
        {"email": "new2@acme.io", "custom_variables": {"tier": 1}},
    ]
    response = api.post(
        "/api/v2/leads/add",
        json={"list_id": target, "leads": leads, "skip_if_in_workspace": True},
    )
    assert response.status_code == 200, response.text
    assert_matches_response(response.json(), "POST", "/api/v2/leads/add")
    summary = response.json()
    created = summary.pop("created_leads")
    assert summary == {
        **EMPTY_SUMMARY,
        "total_sent": 8,
        "leads_uploaded": 3,
        "duplicate_email_count": 1,
        "skipped_count": 1,
        "invalid_email_count": 1,
        "incomplete_count": 1,
        "duplicated_leads": 1,
    }
    assert [item["index"] for item in created] == [0, 6, 7]
    assert created[0] == {
        "index": 0,
        "id": created[0]["id"],
        "email": "new1@acme.io",
        "first_name": "Ann",
        "last_name": "A",
        "phone": "+1",
    }
    assert (created[1]["email"], created[1]["first_name"], created[1]["last_name"]) == (
        None,
        "Only",
        "Names",
    )
    assert emails_in(db, list_id=target) == ["InList@acme.io", "new1@acme.io", None, "new2@acme.io"]

    for item in created:
        lead = api.get(f"/api/v2/leads/{item['id']}").json()
        assert_matches_schema(lead, "Lead")
        assert lead["list_id"] == target
        assert lead["status"] == 1
        assert lead["upload_method"] == "api"
        assert lead["uploaded_by_user"] == workspace.owner_user_id
    assert api.get(f"/api/v2/leads/{created[2]['id']}").json()["payload"] == {"tier": 1}
    assert api.get(f"/api/v2/leads/{created[0]['id']}").json()["company_domain"] == "acme.io"


def test_a_batch_into_a_campaign_needs_emails_and_skips_leads_in_lists(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    campaign_id = add_campaign(db, workspace.workspace_id)
    other_list = add_list(db, workspace.workspace_id)
    insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": "inlist@acme.io", "list_id": other_list},
            {"email": "incampaign@acme.io", "campaign": campaign_id},
            {"email": "loose@acme.io"},
        ],
    )
    response = api.post(
        "/api/v2/leads/add",
        json={
            "campaign_id": campaign_id,
            "skip_if_in_list": True,
            "leads": [
                {"email": "InList@acme.io"},
                {"email": "INCAMPAIGN@acme.io"},
                {"email": "loose@acme.io"},
                {"first_name": "No email"},
                {"email": "   "},
            ],
        },
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    created = summary.pop("created_leads")
    assert summary == {
        **EMPTY_SUMMARY,
        "total_sent": 5,
        "leads_uploaded": 1,
        "skipped_count": 1,
        "duplicated_leads": 1,
        "incomplete_count": 2,
    }
    assert [(item["index"], item["email"]) for item in created] == [(2, "loose@acme.io")]
    assert emails_in(db, campaign=campaign_id) == ["incampaign@acme.io", "loose@acme.io"]


def test_without_skip_flags_only_the_destination_is_deduplicated(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    target = add_list(db, workspace.workspace_id)
    campaign_id = add_campaign(db, workspace.workspace_id)
    insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io", "campaign": campaign_id}])
    batch = {"list_id": target, "leads": [{"email": "a@acme.io"}, {"email": "b@acme.io"}]}

    first = api.post("/api/v2/leads/add", json=batch).json()
    assert (first["leads_uploaded"], first["skipped_count"]) == (2, 0)

    repeated = api.post("/api/v2/leads/add", json=batch).json()
    assert repeated["leads_uploaded"] == 0
    assert repeated["duplicated_leads"] == 2
    assert repeated["created_leads"] == []
    assert lead_count(db) == 3


def test_top_level_assigned_to_applies_to_leads_without_their_own(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    target = add_list(db, workspace.workspace_id)
    rep = add_member(db, workspace.workspace_id, "rep@acme.io")
    response = api.post(
        "/api/v2/leads/add",
        json={
            "list_id": target,
            "assigned_to": rep,
            "leads": [
                {"email": "a@acme.io"},
                {"email": "b@acme.io", "assigned_to": workspace.owner_user_id},
                {"email": "c@acme.io", "assigned_to": None},
            ],
        },
    )
    assert response.status_code == 200, response.text
    owners = [
        api.get(f"/api/v2/leads/{item['id']}").json()["assigned_to"]
        for item in response.json()["created_leads"]
    ]
    assert owners == [rep, workspace.owner_user_id, rep]

    unowned = api.post(
        "/api/v2/leads/add", json={"list_id": target, "leads": [{"email": "d@acme.io"}]}
    )
    lead_id = unowned.json()["created_leads"][0]["id"]
    assert api.get(f"/api/v2/leads/{lead_id}").json()["assigned_to"] is None


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"campaign_id": "{campaign}", "list_id": "{list}"}, 400, "list_id"),
        ({}, 400, "list_id"),
        ({"list_id": UNKNOWN_ID}, 404, UNKNOWN_ID),
        ({"campaign_id": UNKNOWN_ID}, 404, UNKNOWN_ID),
        ({"list_id": "not-a-uuid"}, 400, "list_id"),
        ({"list_id": "{list}", "leads": []}, 400, "leads"),
        (
            {"list_id": "{list}", "leads": [{"email": f"l{i}@acme.io"} for i in range(1001)]},
            400,
            "leads",
        ),
        ({"list_id": "{list}", "leads": "a@acme.io"}, 400, "leads"),
        ({"list_id": "{list}", "assigned_to": UNKNOWN_ID}, 400, "assigned_to"),
        (
            {"list_id": "{list}", "leads": [{"email": "a@acme.io"}, {"assigned_to": UNKNOWN_ID}]},
            400,
            "leads.1.assigned_to",
        ),
        (
            {
                "list_id": "{list}",
                "leads": [{"email": "a@acme.io", "custom_variables": {"x": [1]}}],
            },
            400,
            "leads.0.custom_variables",
        ),
        (
            {"list_id": "{list}", "leads": [{"email": "a@acme.io"}, {"lt_interest_status": 5}]},
            400,
            "leads.1.lt_interest_status",
        ),
        ({"list_id": "{list}", "leads": [{"email": 42}]}, 400, "leads.0.email"),
        ({"list_id": "{list}", "leads": [{"job_title": "j" * 256}]}, 400, "leads.0.job_title"),
    ],
)
def test_bad_import_is_rejected_whole_and_writes_nothing(
    api: TestClient,
    workspace: WorkspaceClient,
    db: Database,
    body: dict[str, Any],
    status: int,
    named: str,
) -> None:
    ids = {
        "{campaign}": add_campaign(db, workspace.workspace_id),
        "{list}": add_list(db, workspace.workspace_id),
    }
    request: dict[str, Any] = {"leads": [{"email": "a@acme.io"}]}
    request.update(
        {
            key: ids.get(value, value) if isinstance(value, str) else value
            for key, value in body.items()
        }
    )
    response = api.post("/api/v2/leads/add", json=request)
    assert named in assert_is_error(response, status)["message"]
    assert lead_count(db) == 0


def test_a_full_batch_of_1000_is_inserted(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    target = add_list(db, workspace.workspace_id)
    leads = [{"email": f"lead{i}@acme.io", "first_name": f"L{i}"} for i in range(1000)]
    response = api.post("/api/v2/leads/add", json={"list_id": target, "leads": leads})
    assert response.status_code == 200, response.text
    created = response.json()["created_leads"]
    assert response.json()["leads_uploaded"] == 1000
    assert [item["index"] for item in created] == list(range(1000))
    assert [item["email"] for item in created] == [lead["email"] for lead in leads]
    assert emails_in(db, list_id=target) == [lead["email"] for lead in leads]


def test_an_import_costs_the_same_few_statements_for_1000_leads_as_for_one(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    target = add_list(db, workspace.workspace_id)
    insert_leads(db, workspace.workspace_id, [{"email": "lead7@acme.io", "list_id": target}])
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def import_size(count: int, offset: int) -> int:
        statements.clear()
        leads = [{"email": f"lead{offset + i}@acme.io"} for i in range(count)]
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            response = api.post(
                "/api/v2/leads/add",
                json={"list_id": target, "skip_if_in_workspace": True, "leads": leads},
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert response.status_code == 200, response.text
        return len(statements)

    # The first request of a key also looks the key up (then cached): not part of an import.
    assert api.get("/api/v2/workspaces/current").status_code == 200
    one = import_size(1, 5000)
    thousand = import_size(1000, 0)
    assert thousand == one, statements
    assert sum("leads" in statement and "INSERT" in statement for statement in statements) == 1


def test_another_workspace_cannot_add_leads_to_a_list_it_does_not_own(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient, db: Database
) -> None:
    target = add_list(db, workspace.workspace_id)
    campaign_id = add_campaign(db, workspace.workspace_id)
    intruder = other_workspace.client
    for destination in ({"list_id": target}, {"campaign_id": campaign_id}):
        response = intruder.post(
            "/api/v2/leads/add", json={**destination, "leads": [{"email": "x@globex.io"}]}
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "Not Found"
    assert lead_count(db) == 0


def test_skip_if_in_workspace_looks_only_at_the_callers_workspace(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient, db: Database
) -> None:
    insert_leads(db, other_workspace.workspace_id, [{"email": "shared@acme.io"}])
    target = add_list(db, workspace.workspace_id)
    response = api.post(
        "/api/v2/leads/add",
        json={
            "list_id": target,
            "skip_if_in_workspace": True,
            "leads": [{"email": "shared@acme.io"}],
        },
    )
    assert response.json()["leads_uploaded"] == 1
    assert response.json()["skipped_count"] == 0
