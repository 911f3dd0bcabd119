"""One lead at a time: ``POST /api/v2/leads``, ``GET/PATCH/DELETE /api/v2/leads/{id}``."""

import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from leadroute.db.session import Database
from leadroute.lead_labels.models import LeadLabel
from leadroute.leads.models import Lead
from leadroute.leads.repository import LeadRepository
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads
from tests.test_selection import add_campaign, add_list, add_member
from tests.wire import assert_is_error, assert_matches_schema

UNKNOWN_ID = "0190b6e4-0000-7000-8000-000000000000"


def lead_count(db: Database) -> int:
    with db.read_sessions() as session:
        return session.scalar(select(func.count()).select_from(Lead)) or 0


def set_columns(db: Database, lead_id: str, **values: Any) -> None:
    """A write by someone else (a background job, another request), straight to the database."""
    with db.write_sessions.begin() as session:
        session.execute(update(Lead).where(Lead.id == uuid.UUID(lead_id)).values(**values))


def add_label(db: Database, workspace_id: str, interest_status: int) -> None:
    with db.write_sessions.begin() as session:
        session.add(
            LeadLabel(
                workspace_id=uuid.UUID(workspace_id),
                label="Hot",
                interest_status=interest_status,
                interest_status_label="positive",
            )
        )


# --- create ----------------------------------------------------------------------------------


def test_create_answers_a_new_active_lead_with_the_spec_defaults(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    list_id = add_list(db, workspace.workspace_id)
    created = api.post(
        "/api/v2/leads",
        json={
            "list_id": list_id,
            "email": " Ada@Analytical.Engines.io ",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company_name": "Engines",
            "job_title": "Countess",
            "phone": "+441234",
            "website": "https://engines.io",
            "personalization": "Hi Ada",
            "pl_value_lead": "High",
            "assigned_to": workspace.owner_user_id,
            "custom_variables": {"plan": "pro", "seats": 12, "trial": False, "ref": None},
            "blocklist_id": "ignored",
            "verify_leads_on_import": True,
        },
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert_matches_schema(body, "Lead")
    assert body["organization"] == workspace.workspace_id
    assert body["list_id"] == list_id
    assert body["campaign"] is None
    assert body["email"] == "Ada@Analytical.Engines.io"
    assert (body["first_name"], body["last_name"]) == ("Ada", "Lovelace")
    assert body["status"] == 1
    assert (body["email_open_count"], body["email_reply_count"], body["email_click_count"]) == (
        0,
        0,
        0,
    )
    assert body["company_domain"] == "analytical.engines.io"
    assert body["status_summary"] == {}
    assert body["upload_method"] == "api"
    assert body["uploaded_by_user"] == workspace.owner_user_id
    assert body["assigned_to"] == workspace.owner_user_id
    assert body["payload"] == {"plan": "pro", "seats": 12, "trial": False, "ref": None}
    assert "lt_interest_status" not in body
    assert "verification_status" not in body
    assert body["timestamp_last_interest_change"] is None
    assert body["timestamp_created"].endswith("Z")

    fetched = api.get(f"/api/v2/leads/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


@pytest.mark.parametrize(
    ("email", "website", "expected"),
    [
        ("ann@Mail.Example.COM", "https://other.io", "mail.example.com"),
        (None, "https://www.Acme.io/about?x=1", "acme.io"),
        (None, "acme.io/pricing", "acme.io"),
        (None, "http://shop.acme.co.uk:8080", "shop.acme.co.uk"),
        (None, "n/a", ""),
        (None, None, ""),
    ],
)
def test_company_domain_is_the_email_domain_else_the_website_host_else_empty(
    api: TestClient, email: str | None, website: str | None, expected: str
) -> None:
    created = api.post(
        "/api/v2/leads", json={"email": email, "website": website, "first_name": "Ann"}
    )
    assert created.status_code == 200, created.text
    assert created.json()["company_domain"] == expected


def test_create_in_a_campaign_and_with_an_interest_status(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    campaign_id = add_campaign(db, workspace.workspace_id)
    add_label(db, workspace.workspace_id, 42)
    first = api.post(
        "/api/v2/leads",
        json={"campaign": campaign_id, "email": "a@acme.io", "lt_interest_status": 2},
    )
    assert first.status_code == 200, first.text
    assert_matches_schema(first.json(), "Lead")
    assert first.json()["campaign"] == campaign_id
    assert first.json()["list_id"] is None
    assert first.json()["lt_interest_status"] == 2
    assert first.json()["timestamp_last_interest_change"] is not None

    labelled = api.post(
        "/api/v2/leads",
        json={"campaign": campaign_id, "email": "b@acme.io", "lt_interest_status": 42},
    )
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["lt_interest_status"] == 42


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"campaign": "{campaign}", "list_id": "{list}", "email": "a@acme.io"}, 400, "list_id"),
        ({"campaign": UNKNOWN_ID, "email": "a@acme.io"}, 404, UNKNOWN_ID),
        ({"list_id": UNKNOWN_ID, "email": "a@acme.io"}, 404, UNKNOWN_ID),
        ({"list_id": "not-a-uuid", "email": "a@acme.io"}, 400, "list_id"),
        ({"campaign": "{campaign}", "first_name": "No email"}, 400, "email"),
        ({"list_id": "{list}", "company_name": "Nameless"}, 400, "first_name"),
        ({"phone": "+1"}, 400, "email"),
        ({"email": "not an email"}, 400, "email"),
        ({"email": "a@acme.io", "assigned_to": UNKNOWN_ID}, 400, "assigned_to"),
        ({"email": "a@acme.io", "assigned_to": "nope"}, 400, "assigned_to"),
        ({"email": "a@acme.io", "lt_interest_status": 7}, 400, "lt_interest_status"),
        ({"email": "a@acme.io", "lt_interest_status": "hot"}, 400, "lt_interest_status"),
        ({"email": "a@acme.io", "custom_variables": {"a": {"b": 1}}}, 400, "custom_variables"),
        ({"email": "a@acme.io", "custom_variables": {"a": [1]}}, 400, "custom_variables"),
        ({"email": "a@acme.io", "custom_variables": ["a"]}, 400, "custom_variables"),
        ({"email": "a@acme.io", "first_name": "x" * 256}, 400, "first_name"),
        ({"email": "a@acme.io", "phone": "1" * 65}, 400, "phone"),
        ({"email": "a@acme.io", "first_name": "nul\u0000"}, 400, "first_name"),
    ],
)
def test_bad_create_is_rejected_naming_the_field_and_writes_nothing(
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
    resolved = {
        key: ids.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }
    response = api.post("/api/v2/leads", json=resolved)
    assert named in assert_is_error(response, status)["message"]
    assert lead_count(db) == 0


def test_an_email_already_in_the_destination_answers_the_existing_lead(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    list_id = add_list(db, workspace.workspace_id)
    first = api.post("/api/v2/leads", json={"list_id": list_id, "email": "ann@acme.io"}).json()
    again = api.post(
        "/api/v2/leads", json={"list_id": list_id, "email": "ANN@acme.io", "first_name": "New"}
    )
    assert again.status_code == 200
    assert again.json() == first
    assert lead_count(db) == 1


def test_skip_flags_answer_the_existing_lead_and_create_nothing(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    other_list = add_list(db, workspace.workspace_id, "Other")
    target_list = add_list(db, workspace.workspace_id, "Target")
    campaign_id = add_campaign(db, workspace.workspace_id)
    [in_list] = insert_leads(
        db, workspace.workspace_id, [{"email": "l@acme.io", "list_id": other_list}]
    )
    [in_campaign] = insert_leads(
        db, workspace.workspace_id, [{"email": "c@acme.io", "campaign": campaign_id}]
    )
    [loose] = insert_leads(db, workspace.workspace_id, [{"email": "w@acme.io"}])

    def create(email: str, **flags: bool) -> dict[str, Any]:
        response = api.post("/api/v2/leads", json={"list_id": target_list, "email": email, **flags})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert_matches_schema(body, "Lead")
        return body

    assert create("L@acme.io", skip_if_in_list=True)["id"] == in_list
    assert create("c@ACME.io", skip_if_in_campaign=True)["id"] == in_campaign
    assert create("w@acme.io", skip_if_in_workspace=True)["id"] == loose
    assert lead_count(db) == 3

    # A flag for another kind of place does not skip, and no flag never skips.
    assert create("l@acme.io", skip_if_in_campaign=True)["id"] not in {in_list, in_campaign, loose}
    assert create("w@acme.io", skip_if_in_list=True, skip_if_in_campaign=True)["id"] != loose
    assert lead_count(db) == 5


# --- get / patch / delete ------------------------------------------------------------------


def test_get_unknown_is_404_and_malformed_id_is_400(api: TestClient) -> None:
    assert api.get(f"/api/v2/leads/{UNKNOWN_ID}").status_code == 404
    malformed = api.get("/api/v2/leads/not-a-uuid")
    assert malformed.status_code == 400
    assert "id" in malformed.json()["message"]
    assert api.patch("/api/v2/leads/not-a-uuid", json={"first_name": "x"}).status_code == 400
    assert api.delete("/api/v2/leads/not-a-uuid").status_code == 400


def test_patch_writes_the_given_fields_and_answers_the_lead(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    member = add_member(db, workspace.workspace_id, "rep@acme.io")
    lead = api.post(
        "/api/v2/leads", json={"first_name": "Bob", "website": "bob.io", "phone": "1"}
    ).json()

    patched = api.patch(
        f"/api/v2/leads/{lead['id']}",
        json={
            "first_name": "Robert",
            "last_name": "Smith",
            "website": "https://www.robert.dev",
            "phone": None,
            "pl_value_lead": "Low",
            "assigned_to": member,
            "email": "ignored@acme.io",
            "status": -1,
        },
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert_matches_schema(body, "Lead")
    assert (body["first_name"], body["last_name"], body["phone"]) == ("Robert", "Smith", None)
    assert body["website"] == "https://www.robert.dev"
    assert body["company_domain"] == "robert.dev"
    assert body["pl_value_lead"] == "Low"
    assert body["assigned_to"] == member
    assert body["email"] is None
    assert body["status"] == 1
    assert body["timestamp_updated"] >= lead["timestamp_updated"]
    assert api.get(f"/api/v2/leads/{lead['id']}").json() == body

    unassigned = api.patch(f"/api/v2/leads/{lead['id']}", json={"assigned_to": None})
    assert unassigned.status_code == 200
    assert unassigned.json()["assigned_to"] is None


def test_patch_first_name_keeps_an_assignment_written_since_the_client_read_the_lead(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    member = add_member(db, workspace.workspace_id, "rep@acme.io")
    [lead_id] = insert_leads(
        db, workspace.workspace_id, [{"email": "a@acme.io", "first_name": "Al", "job_title": "CTO"}]
    )
    read = api.get(f"/api/v2/leads/{lead_id}").json()
    assert read["assigned_to"] is None

    set_columns(db, lead_id, assigned_to=uuid.UUID(member), email_open_count=4)
    patched = api.patch(f"/api/v2/leads/{lead_id}", json={"first_name": "Alan"})

    assert patched.status_code == 200
    assert patched.json()["first_name"] == "Alan"
    assert patched.json()["assigned_to"] == member
    assert patched.json()["email_open_count"] == 4
    assert patched.json()["job_title"] == "CTO"
    stored = api.get(f"/api/v2/leads/{lead_id}").json()
    assert (stored["first_name"], stored["assigned_to"]) == ("Alan", member)


def test_patch_never_overwrites_a_column_written_between_its_read_and_its_update(
    api: TestClient,
    workspace: WorkspaceClient,
    db: Database,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    member = add_member(db, workspace.workspace_id, "rep@acme.io")
    [lead_id] = insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io"}])
    original_get = LeadRepository.get
    writers: list[threading.Thread] = []

    def get_then_concurrent_write(self: LeadRepository, lead_id_: uuid.UUID) -> Lead | None:
        lead = original_get(self, lead_id_)
        # Another transaction (a bulk-assign chunk) writes the owner after PATCH has read the
        # lead. PostgreSQL lets it commit at once; SQLite makes it wait for PATCH's commit.
        # Either way PATCH must not write the owner back.
        if backend == "postgresql":
            set_columns(db, lead_id, assigned_to=uuid.UUID(member))
        else:
            writer = threading.Thread(
                target=set_columns, args=(db, lead_id), kwargs={"assigned_to": uuid.UUID(member)}
            )
            writer.start()
            writers.append(writer)
        return lead

    monkeypatch.setattr(LeadRepository, "get", get_then_concurrent_write)
    patched = api.patch(
        f"/api/v2/leads/{lead_id}", json={"first_name": "Alan", "custom_variables": {"k": 1}}
    )
    monkeypatch.undo()
    for writer in writers:
        writer.join(timeout=30)

    assert patched.status_code == 200, patched.text
    if backend == "postgresql":
        assert patched.json()["assigned_to"] == member
    stored = api.get(f"/api/v2/leads/{lead_id}").json()
    assert (stored["first_name"], stored["assigned_to"], stored["payload"]) == (
        "Alan",
        member,
        {"k": 1},
    )


def test_patch_custom_variables_merge_into_the_stored_ones(api: TestClient, db: Database) -> None:
    lead = api.post(
        "/api/v2/leads",
        json={"email": "a@acme.io", "custom_variables": {"plan": "pro", "seats": 3}},
    ).json()
    patched = api.patch(
        f"/api/v2/leads/{lead['id']}",
        json={"custom_variables": {"seats": 5, "region": "EU", "plan": None}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["payload"] == {"plan": None, "seats": 5, "region": "EU"}

    fresh = api.post("/api/v2/leads", json={"email": "b@acme.io"}).json()
    assert fresh["payload"] is None
    with db.read_sessions() as session:
        stored = select(Lead.id).where(Lead.id == uuid.UUID(fresh["id"]), Lead.payload.is_(None))
        assert session.scalar(stored) is not None, "no custom variables is SQL NULL"
    merged = api.patch(f"/api/v2/leads/{fresh['id']}", json={"custom_variables": {"x": 1.5}})
    assert merged.json()["payload"] == {"x": 1.5}


def test_changing_the_interest_status_stamps_the_change_and_an_equal_value_does_not(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    add_label(db, workspace.workspace_id, 17)
    [lead_id] = insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io"}])

    first = api.patch(f"/api/v2/leads/{lead_id}", json={"lt_interest_status": 1}).json()
    assert_matches_schema(first, "Lead")
    assert first["lt_interest_status"] == 1
    stamped = first["timestamp_last_interest_change"]
    assert stamped is not None

    same = api.patch(f"/api/v2/leads/{lead_id}", json={"lt_interest_status": 1}).json()
    assert same["timestamp_last_interest_change"] == stamped

    set_columns(db, lead_id, timestamp_last_interest_change=None)
    custom = api.patch(f"/api/v2/leads/{lead_id}", json={"lt_interest_status": 17}).json()
    assert custom["lt_interest_status"] == 17
    assert custom["timestamp_last_interest_change"] is not None


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "first_name"),
        ({"email": "new@acme.io", "status": 3}, "first_name"),
        ({"lt_interest_status": 99}, "lt_interest_status"),
        ({"lt_interest_status": None}, "lt_interest_status"),
        ({"custom_variables": None}, "custom_variables"),
        ({"custom_variables": {"nested": {"a": 1}}}, "custom_variables"),
        ({"assigned_to": UNKNOWN_ID}, "assigned_to"),
        ({"assigned_to": "someone"}, "assigned_to"),
        ({"first_name": "Ok", "last_name": "y" * 256}, "last_name"),
        ({"website": 12}, "website"),
    ],
)
def test_bad_patch_is_400_naming_the_field_and_changes_nothing(
    api: TestClient, workspace: WorkspaceClient, db: Database, body: dict[str, Any], named: str
) -> None:
    [lead_id] = insert_leads(
        db,
        workspace.workspace_id,
        [{"email": "a@acme.io", "first_name": "Al", "payload": {"k": 1}}],
    )
    before = api.get(f"/api/v2/leads/{lead_id}").json()
    response = api.patch(f"/api/v2/leads/{lead_id}", json=body)
    assert named in assert_is_error(response, 400)["message"]
    assert api.get(f"/api/v2/leads/{lead_id}").json() == before


def test_delete_answers_the_deleted_lead(api: TestClient, db: Database) -> None:
    lead = api.post("/api/v2/leads", json={"email": "a@acme.io", "first_name": "Al"}).json()
    deleted = api.delete(f"/api/v2/leads/{lead['id']}")
    assert deleted.status_code == 200
    assert_matches_schema(deleted.json(), "Lead")
    assert deleted.json() == lead
    assert api.get(f"/api/v2/leads/{lead['id']}").status_code == 404
    assert api.delete(f"/api/v2/leads/{lead['id']}").status_code == 404
    assert lead_count(db) == 0


def test_another_workspace_gets_404_and_changes_nothing(
    api: TestClient, other_workspace: WorkspaceClient, db: Database
) -> None:
    lead = api.post("/api/v2/leads", json={"email": "a@acme.io", "first_name": "Al"}).json()
    intruder = other_workspace.client
    assert intruder.get(f"/api/v2/leads/{lead['id']}").status_code == 404
    patched = intruder.patch(f"/api/v2/leads/{lead['id']}", json={"first_name": "Mallory"})
    assert patched.status_code == 404
    assert patched.json()["error"] == "Not Found"
    assert intruder.delete(f"/api/v2/leads/{lead['id']}").status_code == 404
    assert api.get(f"/api/v2/leads/{lead['id']}").json() == lead


def test_another_workspaces_list_or_member_cannot_be_used(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient, db: Database
) -> None:
    foreign_list = add_list(db, other_workspace.workspace_id)
    assert (
        api.post("/api/v2/leads", json={"list_id": foreign_list, "email": "a@acme.io"}).status_code
        == 404
    )
    foreign_user = other_workspace.owner_user_id
    assert (
        api.post(
            "/api/v2/leads", json={"email": "a@acme.io", "assigned_to": foreign_user}
        ).status_code
        == 400
    )
    assert lead_count(db) == 0


def test_each_endpoint_needs_its_leads_scope(
    api: TestClient, workspace: WorkspaceClient, db: Database, anonymous: TestClient
) -> None:
    [lead_id] = insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io"}])
    issued = api.post("/api/v2/api-keys", json={"name": "reader", "scopes": ["leads:read"]})
    assert issued.status_code == 200, issued.text
    reader = anonymous
    reader.headers["Authorization"] = f"Bearer {issued.json()['key']}"

    assert reader.get(f"/api/v2/leads/{lead_id}").status_code == 200
    assert reader.post("/api/v2/leads", json={"email": "b@acme.io"}).status_code == 403
    assert reader.patch(f"/api/v2/leads/{lead_id}", json={"first_name": "x"}).status_code == 403
    assert reader.delete(f"/api/v2/leads/{lead_id}").status_code == 403
    assert reader.post("/api/v2/lead-activities", json={"activities": []}).status_code == 403
    del reader.headers["Authorization"]
    assert reader.get(f"/api/v2/leads/{lead_id}").status_code == 401
