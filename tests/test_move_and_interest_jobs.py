"""POST /api/v2/leads/move and /leads/update-interest-status: background jobs on the same engine."""

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadroute.db.session import Database
from leadroute.leads.models import Lead
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads, many_leads
from tests.jobs_support import run_jobs
from tests.test_bulk_assign import add_members, job
from tests.wire import assert_matches_schema


def leads_of(db: Database, workspace_id: str) -> list[Lead]:
    with db.read_sessions() as session:
        return list(
            session.scalars(
                select(Lead).where(Lead.workspace_id == uuid.UUID(workspace_id)).order_by(Lead.id)
            )
        )


def new_list(api: TestClient, name: str) -> str:
    return str(api.post("/api/v2/lead-lists", json={"name": name}).json()["id"])


def move(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v2/leads/move", json=body)
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()
    assert_matches_schema(moved, "BackgroundJob")
    return moved


def test_move_takes_the_selected_leads_to_another_list(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    source, target = new_list(api, "Source"), new_list(api, "Target")
    moving = insert_leads(db, workspace.workspace_id, many_leads(5, list_id=source, status=3))
    staying = insert_leads(db, workspace.workspace_id, many_leads(2, list_id=source, status=1))
    queued = move(api, {"list_id": source, "filter": "FILTER_VAL_COMPLETED", "to_list_id": target})
    assert queued["type"] == "move-leads"
    assert queued["status"] == "pending"
    assert queued["entity_type"] == "list"
    assert queued["entity_id"] == target
    run_jobs(db, settings, job_chunk_size=2)

    by_id = {str(lead.id): lead for lead in leads_of(db, workspace.workspace_id)}
    assert {str(by_id[i].list_id) for i in moving} == {target}
    assert {str(by_id[i].list_id) for i in staying} == {source}
    finished = job(api, queued["id"])
    assert finished["status"] == "success"
    assert finished["data"]["success_count"] == 5
    assert finished["data"]["total_to_process"] == 5


def test_move_to_a_campaign_with_a_new_owner_records_history(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    (owner,) = add_members(api, 1)
    source = new_list(api, "Source")
    campaign = api.post(
        "/api/v2/campaigns",
        json={
            "name": "Spring",
            "campaign_schedule": {
                "schedules": [
                    {
                        "name": "Weekdays",
                        "timing": {"from": "09:00", "to": "17:00"},
                        "days": {"1": True},
                        "timezone": "America/Chicago",
                    }
                ]
            },
        },
    )
    assert campaign.status_code == 200, campaign.text
    campaign_id = campaign.json()["id"]
    (lead_id,) = insert_leads(db, workspace.workspace_id, many_leads(1, list_id=source))
    queued = move(api, {"ids": [lead_id], "to_campaign_id": campaign_id, "assigned_to": owner})
    run_jobs(db, settings)
    lead = api.get(f"/api/v2/leads/{lead_id}").json()
    assert lead["campaign"] == campaign_id
    assert lead["list_id"] is None
    assert lead["assigned_to"] == owner
    history = api.get(f"/api/v2/leads/{lead_id}/assignment-history").json()["items"]
    assert [(i["previous"], i["assigned_to"], i["job_id"]) for i in history] == [
        (None, owner, queued["id"])
    ]


def test_copy_leaves_the_originals_and_check_duplicates_skips_known_emails(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    source, target = new_list(api, "Source"), new_list(api, "Target")
    insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": "a@x.test", "list_id": source},
            {"email": "b@x.test", "list_id": source},
            {"email": "A@X.test", "list_id": target},
        ],
    )
    queued = move(
        api,
        {"list_id": source, "to_list_id": target, "copy_leads": True, "check_duplicates": True},
    )
    run_jobs(db, settings)
    leads = leads_of(db, workspace.workspace_id)
    in_source = sorted(str(lead.email) for lead in leads if str(lead.list_id) == source)
    in_target = sorted(str(lead.email).lower() for lead in leads if str(lead.list_id) == target)
    assert in_source == ["a@x.test", "b@x.test"]
    assert in_target == ["a@x.test", "b@x.test"]
    data = job(api, queued["id"])["data"]
    assert data["success_count"] == 1
    assert data["skipped_count"] == 1


def test_move_validates_before_queueing(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient
) -> None:
    target = new_list(api, "Target")
    theirs = other_workspace.client.post("/api/v2/lead-lists", json={"name": "x"}).json()["id"]
    cases: list[tuple[dict[str, Any], int]] = [
        ({}, 400),
        ({"to_list_id": target, "to_campaign_id": str(uuid.uuid4())}, 400),
        ({"to_list_id": theirs}, 404),
        ({"to_list_id": target, "assigned_to": other_workspace.owner_user_id}, 400),
        ({"to_list_id": target, "filter": "NOPE"}, 400),
    ]
    for body, status in cases:
        assert api.post("/api/v2/leads/move", json=body).status_code == status, body
    assert api.get("/api/v2/background-jobs").json()["items"] == []


def test_update_interest_status_sets_and_resets_by_email(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    source, other = new_list(api, "One"), new_list(api, "Two")
    first, second, third = insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": "Kim@Acme.test", "list_id": source},
            {"email": "kim@acme.test", "list_id": other},
            {"email": "lee@acme.test", "list_id": source},
        ],
    )
    accepted = api.post(
        "/api/v2/leads/update-interest-status",
        json={"lead_email": "KIM@acme.test", "interest_value": 2, "list_id": source},
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["message"]
    assert accepted.headers["Location"].endswith(accepted.json()["job_id"])
    run_jobs(db, settings)
    assert api.get(f"/api/v2/leads/{first}").json()["lt_interest_status"] == 2
    assert "lt_interest_status" not in api.get(f"/api/v2/leads/{second}").json()
    assert "lt_interest_status" not in api.get(f"/api/v2/leads/{third}").json()
    done = job(api, accepted.json()["job_id"])
    assert done["type"] == "update-interest-status"
    assert done["status"] == "success"
    assert done["data"]["updated_count"] == 1

    reset = api.post(
        "/api/v2/leads/update-interest-status",
        json={"lead_email": "kim@acme.test", "interest_value": None},
    )
    assert reset.status_code == 202
    run_jobs(db, settings)
    assert "lt_interest_status" not in api.get(f"/api/v2/leads/{first}").json()


def test_update_interest_status_accepts_custom_labels_and_rejects_unknown_values(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    (lead_id,) = insert_leads(db, workspace.workspace_id, [{"email": "z@e.test"}])
    label = api.post(
        "/api/v2/lead-labels", json={"label": "Champion", "interest_status_label": "positive"}
    ).json()
    custom = label["interest_status"]
    ok = api.post(
        "/api/v2/leads/update-interest-status",
        json={"lead_email": "z@e.test", "interest_value": custom},
    )
    assert ok.status_code == 202
    run_jobs(db, settings)
    with db.read_sessions() as session:
        stored = session.get(Lead, uuid.UUID(lead_id))
        assert stored is not None
        assert stored.lt_interest_status == custom
    for body, status in [
        ({"lead_email": "z@e.test", "interest_value": 987654}, 400),
        ({"lead_email": "not-an-email", "interest_value": 1}, 400),
        ({"lead_email": "z@e.test"}, 400),
        ({"lead_email": "z@e.test", "interest_value": 1, "campaign_id": str(uuid.uuid4())}, 404),
    ]:
        response = api.post("/api/v2/leads/update-interest-status", json=body)
        assert response.status_code == status, (body, response.text)
