from fastapi.testclient import TestClient

from tests.conftest import WorkspaceClient


def test_create_get_patch_delete_a_lead_list(api: TestClient, workspace: WorkspaceClient) -> None:
    created = api.post("/api/v2/lead-lists", json={"name": "Founders"})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["name"] == "Founders"
    assert body["organization_id"] == workspace.workspace_id
    assert body["has_enrichment_task"] is None
    assert body["timestamp_created"].endswith("Z")

    fetched = api.get(f"/api/v2/lead-lists/{body['id']}")
    assert fetched.json() == body

    patched = api.patch(f"/api/v2/lead-lists/{body['id']}", json={"name": "CTOs"})
    assert patched.status_code == 200
    assert patched.json()["name"] == "CTOs"

    deleted = api.delete(f"/api/v2/lead-lists/{body['id']}")
    assert deleted.status_code == 200
    assert api.get(f"/api/v2/lead-lists/{body['id']}").status_code == 404


def test_lists_page_in_id_order_and_search_by_name(api: TestClient) -> None:
    names = ["Alpha", "Beta", "Gamma", "alphabet"]
    ids = [api.post("/api/v2/lead-lists", json={"name": n}).json()["id"] for n in names]

    first = api.get("/api/v2/lead-lists", params={"limit": 3}).json()
    assert [item["id"] for item in first["items"]] == ids[:3]
    second = api.get(
        "/api/v2/lead-lists", params={"limit": 3, "starting_after": first["next_starting_after"]}
    ).json()
    assert [item["id"] for item in second["items"]] == ids[3:]
    assert "next_starting_after" not in second

    found = api.get("/api/v2/lead-lists", params={"search": "ALPHA"}).json()
    assert [item["name"] for item in found["items"]] == ["Alpha", "alphabet"]


def test_owned_by_must_be_a_member_user(api: TestClient, workspace: WorkspaceClient) -> None:
    ok = api.post("/api/v2/lead-lists", json={"name": "Mine", "owned_by": workspace.owner_user_id})
    assert ok.status_code == 200
    bad = api.post(
        "/api/v2/lead-lists",
        json={"name": "Theirs", "owned_by": "0190b6e4-0000-7000-8000-000000000000"},
    )
    assert bad.status_code == 400
    assert "owned_by" in bad.json()["message"]


def test_another_workspace_gets_404(api: TestClient, other_workspace: WorkspaceClient) -> None:
    list_id = api.post("/api/v2/lead-lists", json={"name": "Private"}).json()["id"]
    intruder = other_workspace.client
    assert intruder.get(f"/api/v2/lead-lists/{list_id}").status_code == 404
    assert intruder.patch(f"/api/v2/lead-lists/{list_id}", json={"name": "x"}).status_code == 404
    assert intruder.delete(f"/api/v2/lead-lists/{list_id}").status_code == 404
    assert intruder.get("/api/v2/lead-lists").json()["items"] == []


def test_validation_errors_are_400_in_the_envelope(api: TestClient) -> None:
    response = api.post("/api/v2/lead-lists", json={})
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400
    assert body["error"] == "Bad Request"
    assert "name" in body["message"]
    assert api.get("/api/v2/lead-lists/not-a-uuid").status_code == 400
    assert api.get("/api/v2/lead-lists", params={"limit": 101}).status_code == 400
