"""``DELETE /api/v2/leads``: set-based delete of a campaign's or a list's leads."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadroute.db.session import Database
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads, many_leads
from tests.test_selection import UNKNOWN_ID, add_campaign, add_list, selected_ids
from tests.test_smart_views import client_with_scopes


def bulk_delete(client: TestClient, body: dict[str, Any]) -> Any:
    return client.request("DELETE", "/api/v2/leads", json=body)


def test_deletes_the_leads_of_a_campaign_and_leaves_the_others(
    api: TestClient, db: Database, workspace: WorkspaceClient, other_workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id, "Doomed")
    kept_campaign = add_campaign(db, workspace.workspace_id, "Kept")
    doomed = insert_leads(db, workspace.workspace_id, many_leads(3, campaign=campaign))
    kept = insert_leads(
        db, workspace.workspace_id, [*many_leads(2, campaign=kept_campaign), *many_leads(2)]
    )
    theirs = insert_leads(db, other_workspace.workspace_id, many_leads(2))

    response = bulk_delete(api, {"campaign_id": campaign})
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 3}
    assert selected_ids(api, {}) == kept
    assert selected_ids(other_workspace.client, {}) == theirs
    assert not set(doomed) & set(selected_ids(api, {}))
    assert bulk_delete(api, {"campaign_id": campaign}).json() == {"count": 0}


def test_deletes_the_leads_of_a_list(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    lead_list = add_list(db, workspace.workspace_id)
    insert_leads(db, workspace.workspace_id, many_leads(4, list_id=lead_list))
    kept = insert_leads(db, workspace.workspace_id, many_leads(1))
    assert bulk_delete(api, {"list_id": lead_list}).json() == {"count": 4}
    assert selected_ids(api, {}) == kept


def test_status_and_ids_narrow_what_is_deleted(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    ids = insert_leads(
        db,
        workspace.workspace_id,
        [
            {"campaign": campaign, "status": -1},
            {"campaign": campaign, "status": 1},
            {"campaign": campaign, "status": -1},
            {"campaign": campaign, "status": -1},
            {"status": -1},
        ],
    )
    response = bulk_delete(api, {"campaign_id": campaign, "status": -1, "ids": ids[1:]})
    assert response.json() == {"count": 2}
    assert selected_ids(api, {}) == [ids[0], ids[1], ids[4]]
    assert bulk_delete(api, {"campaign_id": campaign, "ids": []}).json() == {"count": 0}
    assert bulk_delete(api, {"campaign_id": campaign, "status": 1}).json() == {"count": 1}
    assert selected_ids(api, {}) == [ids[0], ids[4]]


def test_limit_deletes_the_first_leads_in_id_order(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    other = insert_leads(db, workspace.workspace_id, many_leads(2))
    ids = insert_leads(db, workspace.workspace_id, many_leads(7, campaign=campaign))
    assert bulk_delete(api, {"campaign_id": campaign, "limit": 3}).json() == {"count": 3}
    assert selected_ids(api, {"campaign": campaign}) == ids[3:]
    assert bulk_delete(api, {"campaign_id": campaign, "limit": 10}).json() == {"count": 4}
    assert selected_ids(api, {}) == other


def test_campaign_and_list_together_are_anded(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    lead_list = add_list(db, workspace.workspace_id)
    ids = insert_leads(
        db,
        workspace.workspace_id,
        [
            {"campaign": campaign},
            {"list_id": lead_list},
            {"campaign": campaign, "list_id": lead_list},
        ],
    )
    response = bulk_delete(api, {"campaign_id": campaign, "list_id": lead_list})
    assert response.json() == {"count": 1}
    assert selected_ids(api, {}) == ids[:2]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"status": 1}, "body"),
        ({"campaign_id": "nope"}, "campaign_id"),
        ({"list_id": "nope"}, "list_id"),
        ({"campaign_id": UNKNOWN_ID, "limit": 0}, "limit"),
        ({"campaign_id": UNKNOWN_ID, "limit": 10_001}, "limit"),
        ({"campaign_id": UNKNOWN_ID, "status": 5}, "status"),
        ({"campaign_id": UNKNOWN_ID, "ids": ["nope"]}, "ids.0"),
        ({"campaign_id": UNKNOWN_ID, "ids": [UNKNOWN_ID] * 10_001}, "ids"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    api: TestClient, body: dict[str, Any], field: str
) -> None:
    response = bulk_delete(api, body)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"`{field}") or (
        field == "body" and response.json()["message"].startswith("body")
    ), response.json()["message"]


def test_a_missing_body_is_400(api: TestClient) -> None:
    assert api.request("DELETE", "/api/v2/leads").status_code == 400


@pytest.mark.parametrize("field", ["campaign_id", "list_id"])
def test_an_unknown_or_foreign_campaign_or_list_is_404(
    api: TestClient,
    db: Database,
    workspace: WorkspaceClient,
    other_workspace: WorkspaceClient,
    field: str,
) -> None:
    add = add_campaign if field == "campaign_id" else add_list
    column = "campaign" if field == "campaign_id" else "list_id"
    mine = add(db, workspace.workspace_id, "Mine")
    ids = insert_leads(db, workspace.workspace_id, many_leads(2, **{column: mine}))
    for client, value in ((api, UNKNOWN_ID), (other_workspace.client, mine)):
        response = bulk_delete(client, {field: value})
        assert response.status_code == 404
        assert response.json()["message"].startswith(f"`{field}`")
    assert selected_ids(api, {}) == ids


def test_bulk_delete_needs_leads_delete(app: Any, db: Database, workspace: WorkspaceClient) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    insert_leads(db, workspace.workspace_id, many_leads(2, campaign=campaign))
    reader = client_with_scopes(app, db, workspace, ["leads:read", "leads:update"])
    assert bulk_delete(reader, {"campaign_id": campaign}).status_code == 403
    deleter = client_with_scopes(app, db, workspace, ["all:delete"])
    assert bulk_delete(deleter, {"campaign_id": campaign}).json() == {"count": 2}
