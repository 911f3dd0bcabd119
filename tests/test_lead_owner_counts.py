"""[extension] ``GET /api/v2/leads/owner-counts``: leads per owner, and the unassigned ones."""

import uuid
from typing import Any

from fastapi.testclient import TestClient

from leadroute.db.session import Database
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads, many_leads
from tests.jobs_support import run_jobs
from tests.test_smart_views import client_with_scopes
from tests.wire import assert_is_error

URL = "/api/v2/leads/owner-counts"


def add_member(api: TestClient, email: str) -> str:
    response = api.post("/api/v2/workspace-members", json={"email": email, "role": "editor"})
    assert response.status_code == 200, response.text
    user_id: str = response.json()["user_id"]
    return user_id


def test_counts_each_owner_and_the_unassigned_leads_in_user_id_order(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    ana = add_member(api, "ana@acme.test")
    bo = add_member(api, "bo@acme.test")
    insert_leads(db, workspace.workspace_id, many_leads(3, assigned_to=ana))
    insert_leads(db, workspace.workspace_id, many_leads(1, assigned_to=bo))
    insert_leads(db, workspace.workspace_id, many_leads(2))

    response = api.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "items": sorted(
            [{"user_id": ana, "count": 3}, {"user_id": bo, "count": 1}],
            key=lambda item: item["user_id"],
        ),
        "unassigned": 2,
    }


def test_an_empty_workspace_has_no_owners_and_nothing_unassigned(api: TestClient) -> None:
    assert api.get(URL).json() == {"items": [], "unassigned": 0}


def test_members_that_own_no_lead_are_not_listed(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    add_member(api, "idle@acme.test")
    insert_leads(db, workspace.workspace_id, many_leads(1))

    assert api.get(URL).json() == {"items": [], "unassigned": 1}


def test_an_owner_who_is_no_longer_a_member_is_still_counted(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    former = str(uuid.uuid4())
    insert_leads(db, workspace.workspace_id, many_leads(2, assigned_to=former))

    assert api.get(URL).json() == {"items": [{"user_id": former, "count": 2}], "unassigned": 0}


def test_another_workspace_s_leads_are_not_counted(
    api: TestClient,
    db: Database,
    workspace: WorkspaceClient,
    other_workspace: WorkspaceClient,
) -> None:
    insert_leads(db, workspace.workspace_id, many_leads(1, assigned_to=workspace.owner_user_id))
    insert_leads(
        db, other_workspace.workspace_id, many_leads(4, assigned_to=workspace.owner_user_id)
    )
    insert_leads(db, other_workspace.workspace_id, many_leads(5))

    assert api.get(URL).json() == {
        "items": [{"user_id": workspace.owner_user_id, "count": 1}],
        "unassigned": 0,
    }
    assert other_workspace.client.get(URL).json() == {
        "items": [{"user_id": workspace.owner_user_id, "count": 4}],
        "unassigned": 5,
    }


def test_a_finished_bulk_assignment_shows_in_the_counts(
    api: TestClient, db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    ana = add_member(api, "ana@acme.test")
    bo = add_member(api, "bo@acme.test")
    insert_leads(db, workspace.workspace_id, many_leads(5))
    accepted = api.post("/api/v2/leads/bulk-assign", json={"organization_user_ids": [ana, bo]})
    assert accepted.status_code == 202

    run_jobs(db, settings)

    assert api.get(URL).json() == {
        "items": sorted(
            [{"user_id": ana, "count": 3}, {"user_id": bo, "count": 2}],
            key=lambda item: item["user_id"],
        ),
        "unassigned": 0,
    }


def test_counting_needs_leads_read(app: Any, db: Database, workspace: WorkspaceClient) -> None:
    reader = client_with_scopes(app, db, workspace, ["leads:read"])
    assert reader.get(URL).status_code == 200
    other = client_with_scopes(app, db, workspace, ["lead_lists:all"])
    assert "leads:read" in assert_is_error(other.get(URL), 403)["message"]


def test_counting_needs_a_key(anonymous: TestClient) -> None:
    assert_is_error(anonymous.get(URL), 401)
