"""Smart views [extension]: named selections, validated like a request's selection."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from leadroute.api_keys.service import ApiKeyService
from leadroute.campaigns.models import Campaign
from leadroute.db.session import Database
from tests.conftest import WorkspaceClient
from tests.test_selection import UNKNOWN_ID, add_campaign, add_list

QUERIES = [
    {"actionType": "reply", "values": {"occurrence-days": 7}},
    {
        "actionType": "lead-status",
        "values": {"lead-status": {"status": -1, "condition": "is-not"}},
    },
]


def client_with_scopes(
    app: Any, db: Database, workspace: WorkspaceClient, scopes: list[str]
) -> TestClient:
    with db.write_sessions.begin() as session:
        issued = ApiKeyService(session, uuid.UUID(workspace.workspace_id)).issue(
            name="Limited", scopes=scopes, created_by=uuid.UUID(workspace.owner_user_id)
        )
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {issued.secret}"
    return client


def test_create_get_patch_delete_a_smart_view(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    created = api.post(
        "/api/v2/smart-views",
        json={
            "name": "Hot replies",
            "search": "acme",
            "filter": "FILTER_VAL_REPLIED",
            "campaign": campaign,
            "in_campaign": True,
            "queries": QUERIES,
            "organization_user_ids": [workspace.owner_user_id],
        },
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Hot replies",
        "organization_id": workspace.workspace_id,
        "timestamp_created": body["timestamp_created"],
        "search": "acme",
        "filter": "FILTER_VAL_REPLIED",
        "campaign": campaign,
        "list_id": None,
        "in_campaign": True,
        "in_list": None,
        "queries": [
            {"actionType": "reply", "values": {"occurrence-days": 7.0}},
            {
                "actionType": "lead-status",
                "values": {"lead-status": {"status": -1, "condition": "is-not"}},
            },
        ],
        "organization_user_ids": [workspace.owner_user_id],
    }
    assert body["timestamp_created"].endswith("Z")
    assert api.get(f"/api/v2/smart-views/{body['id']}").json() == body

    patched = api.patch(
        f"/api/v2/smart-views/{body['id']}",
        json={"name": "Cold", "filter": "FILTER_VAL_NOT_CONTACTED", "campaign": None},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {
        **body,
        "name": "Cold",
        "filter": "FILTER_VAL_NOT_CONTACTED",
        "campaign": None,
    }

    deleted = api.delete(f"/api/v2/smart-views/{body['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["name"] == "Cold"
    assert api.get(f"/api/v2/smart-views/{body['id']}").status_code == 404
    assert api.delete(f"/api/v2/smart-views/{body['id']}").status_code == 404


def test_smart_views_page_in_id_order_and_search_by_name(api: TestClient) -> None:
    names = ["Hot", "Warm", "hotter", "Cold"]
    ids = [api.post("/api/v2/smart-views", json={"name": n}).json()["id"] for n in names]
    first = api.get("/api/v2/smart-views", params={"limit": 3}).json()
    assert [item["id"] for item in first["items"]] == ids[:3]
    second = api.get(
        "/api/v2/smart-views", params={"limit": 3, "starting_after": first["next_starting_after"]}
    ).json()
    assert [item["id"] for item in second["items"]] == ids[3:]
    assert "next_starting_after" not in second
    found = api.get("/api/v2/smart-views", params={"search": "HOT"}).json()
    assert [item["name"] for item in found["items"]] == ["Hot", "hotter"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "filter": "FILTER_NOPE"}, "filter"),
        ({"name": "x", "campaign": "nope"}, "campaign"),
        ({"name": "x", "in_list": "perhaps"}, "in_list"),
        ({"name": "x", "organization_user_ids": ["nope"]}, "organization_user_ids.0"),
        ({"name": "x", "queries": [{"actionType": "bounce", "values": {}}]}, "queries.0"),
        (
            {"name": "x", "queries": [{"actionType": "reply", "values": {"occurrence-days": -3}}]},
            "queries.0.values.occurrence-days",
        ),
    ],
)
def test_an_invalid_smart_view_is_400_naming_the_field(
    api: TestClient, body: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v2/smart-views", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"`{field}"), response.json()["message"]


@pytest.mark.parametrize("field", ["campaign", "list_id"])
def test_a_smart_view_naming_an_unknown_campaign_or_list_is_404(
    api: TestClient, db: Database, other_workspace: WorkspaceClient, field: str
) -> None:
    add = add_campaign if field == "campaign" else add_list
    theirs = add(db, other_workspace.workspace_id, "Theirs")
    for value in (UNKNOWN_ID, theirs):
        response = api.post("/api/v2/smart-views", json={"name": "x", field: value})
        assert response.status_code == 404
        assert response.json()["message"].startswith(f"`{field}`")
    view = api.post("/api/v2/smart-views", json={"name": "x"}).json()
    patched = api.patch(f"/api/v2/smart-views/{view['id']}", json={field: theirs})
    assert patched.status_code == 404


def test_patch_needs_a_field_and_name_cannot_be_cleared(api: TestClient) -> None:
    view = api.post("/api/v2/smart-views", json={"name": "x", "search": "a"}).json()
    assert api.patch(f"/api/v2/smart-views/{view['id']}", json={}).status_code == 400
    response = api.patch(f"/api/v2/smart-views/{view['id']}", json={"name": None})
    assert response.status_code == 400
    assert response.json()["message"].startswith("`name`")
    assert api.get(f"/api/v2/smart-views/{view['id']}").json() == view


def test_a_view_whose_campaign_was_deleted_can_still_be_renamed(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    view = api.post("/api/v2/smart-views", json={"name": "x", "campaign": campaign}).json()
    with db.write_sessions.begin() as session:
        session.execute(delete(Campaign).where(Campaign.id == uuid.UUID(campaign)))
    renamed = api.patch(f"/api/v2/smart-views/{view['id']}", json={"name": "y"})
    assert renamed.status_code == 200
    assert renamed.json()["campaign"] == campaign
    listed = api.post("/api/v2/leads/list", json={"smart_view_id": view["id"]})
    assert listed.status_code == 200
    assert listed.json()["items"] == []


def test_another_workspace_gets_404(api: TestClient, other_workspace: WorkspaceClient) -> None:
    view = api.post("/api/v2/smart-views", json={"name": "Private"}).json()
    intruder = other_workspace.client
    assert intruder.get(f"/api/v2/smart-views/{view['id']}").status_code == 404
    assert (
        intruder.patch(f"/api/v2/smart-views/{view['id']}", json={"name": "x"}).status_code == 404
    )
    assert intruder.delete(f"/api/v2/smart-views/{view['id']}").status_code == 404
    assert intruder.get("/api/v2/smart-views").json() == {"items": []}
    assert api.get(f"/api/v2/smart-views/{view['id']}").status_code == 200


def test_a_malformed_id_in_the_path_is_400(api: TestClient) -> None:
    assert api.get("/api/v2/smart-views/not-a-uuid").status_code == 400


def test_smart_views_need_the_smart_views_scope(
    app: Any, db: Database, workspace: WorkspaceClient
) -> None:
    reader = client_with_scopes(app, db, workspace, ["smart_views:read"])
    assert reader.get("/api/v2/smart-views").status_code == 200
    assert reader.post("/api/v2/smart-views", json={"name": "x"}).status_code == 403
    leads_only = client_with_scopes(app, db, workspace, ["leads:all"])
    assert leads_only.get("/api/v2/smart-views").status_code == 403
    writer = client_with_scopes(app, db, workspace, ["smart_views:all"])
    assert writer.post("/api/v2/smart-views", json={"name": "x"}).status_code == 200
