from fastapi.testclient import TestClient

from tests.conftest import WorkspaceClient
from tests.wire import assert_is_error, assert_matches_response


def test_current_workspace_is_the_one_of_the_calling_key(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    response = api.get("/api/v2/workspaces/current")

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "GET", "/api/v2/workspaces/current")
    assert set(body) == {
        "id",
        "name",
        "owner",
        "org_logo_url",
        "timestamp_created",
        "timestamp_updated",
    }
    assert body["id"] == workspace.workspace_id
    assert body["name"] == "Acme"
    assert body["owner"] == workspace.owner_user_id
    assert body["org_logo_url"] is None


def test_patch_changes_name_and_logo_and_answers_the_workspace(api: TestClient) -> None:
    before = api.get("/api/v2/workspaces/current").json()

    response = api.patch(
        "/api/v2/workspaces/current",
        json={"name": "Acme Corp", "org_logo_url": "https://acme.test/logo.png"},
    )

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "PATCH", "/api/v2/workspaces/current")
    assert body["name"] == "Acme Corp"
    assert body["org_logo_url"] == "https://acme.test/logo.png"
    assert body["owner"] == before["owner"]
    assert body["timestamp_created"] == before["timestamp_created"]
    assert body["timestamp_updated"] >= before["timestamp_updated"]
    assert api.get("/api/v2/workspaces/current").json() == body


def test_patch_with_only_a_null_logo_clears_it(api: TestClient) -> None:
    api.patch("/api/v2/workspaces/current", json={"org_logo_url": "https://acme.test/a.png"})

    response = api.patch("/api/v2/workspaces/current", json={"org_logo_url": None})

    assert response.status_code == 200
    assert response.json()["org_logo_url"] is None
    assert response.json()["name"] == "Acme"


def test_patch_needs_at_least_one_writable_field(api: TestClient) -> None:
    assert (
        "name" in assert_is_error(api.patch("/api/v2/workspaces/current", json={}), 400)["message"]
    )
    # Unknown fields are ignored, so they do not count as a change.
    assert_is_error(api.patch("/api/v2/workspaces/current", json={"plan_id": "pro"}), 400)
    assert api.get("/api/v2/workspaces/current").json()["name"] == "Acme"


def test_patch_rejects_an_empty_or_null_name(api: TestClient) -> None:
    empty = assert_is_error(api.patch("/api/v2/workspaces/current", json={"name": ""}), 400)
    assert "`name`" in empty["message"]
    null = assert_is_error(api.patch("/api/v2/workspaces/current", json={"name": None}), 400)
    assert "`name`" in null["message"]
    assert api.get("/api/v2/workspaces/current").json()["name"] == "Acme"


def test_each_key_sees_and_changes_only_its_own_workspace(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient
) -> None:
    other = other_workspace.client

    renamed = other.patch("/api/v2/workspaces/current", json={"name": "Globex Intl"})

    assert renamed.json()["id"] == other_workspace.workspace_id
    assert other.get("/api/v2/workspaces/current").json()["name"] == "Globex Intl"
    mine = api.get("/api/v2/workspaces/current").json()
    assert mine["id"] == workspace.workspace_id
    assert mine["name"] == "Acme"
