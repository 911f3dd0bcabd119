import hashlib
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadroute.api_keys.catalog import INSTANTLY_SCOPES, KNOWN_SCOPES
from leadroute.api_keys.models import ApiKey
from leadroute.db.session import Database
from leadroute.ids import new_id
from tests.conftest import WorkspaceClient
from tests.wire import assert_is_error, assert_matches_response, subset

KEYS = "/api/v2/api-keys"


def create_key(api: TestClient, scopes: list[str], name: str = "Script") -> dict[str, Any]:
    response = api.post(KEYS, json={"name": name, "scopes": scopes})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def client_for(app: Any, secret: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def test_create_answers_the_secret_once_with_the_key_fields(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    response = api.post(KEYS, json={"name": "Zapier", "scopes": ["leads:read", "lead_lists:all"]})

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "POST", KEYS)
    assert set(body) == {
        "id",
        "name",
        "scopes",
        "key",
        "organization_id",
        "timestamp_created",
        "timestamp_updated",
    }
    assert body["name"] == "Zapier"
    assert body["scopes"] == ["leads:read", "lead_lists:all"]
    assert body["organization_id"] == workspace.workspace_id
    assert body["key"].startswith("lr_")
    assert len(body["key"]) >= 43  # 32 random bytes, url-safe base64, after the prefix


def test_a_created_key_authenticates_with_its_own_scopes(app: Any, api: TestClient) -> None:
    created = create_key(api, ["lead_lists:all"])
    client = client_for(app, created["key"])

    assert client.post("/api/v2/lead-lists", json={"name": "Via new key"}).status_code == 200
    assert_is_error(client.get(KEYS), 403)


def test_the_creator_is_the_calling_keys_user(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    created = create_key(api, ["leads:read"])

    with db.read_sessions() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.id == uuid.UUID(created["id"])))
    assert key is not None
    assert str(key.created_by) == workspace.owner_user_id
    assert key.key_hash == hashlib.sha256(created["key"].encode()).hexdigest()


def test_list_shows_live_keys_masked_never_the_secret(api: TestClient) -> None:
    first = create_key(api, ["leads:read"], name="One")
    second = create_key(api, ["campaigns:all"], name="Two")

    response = api.get(KEYS)

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "GET", KEYS)
    listed = {item["id"]: item for item in body["items"]}
    assert [item["name"] for item in body["items"]] == ["Owner key", "One", "Two"]
    for created in (first, second):
        item = listed[created["id"]]
        assert item["key"] == created["key"][:10] + "..."
        assert created["key"] not in response.text
        assert item == {**created, "key": created["key"][:10] + "..."}


def test_list_pages_in_id_order(api: TestClient) -> None:
    ids = [api.get(KEYS).json()["items"][0]["id"]]
    ids += [create_key(api, ["leads:read"], name=f"k{i}")["id"] for i in range(3)]

    first = api.get(KEYS, params={"limit": 2}).json()
    second = api.get(
        KEYS, params={"limit": 2, "starting_after": first["next_starting_after"]}
    ).json()

    assert [item["id"] for item in first["items"]] == ids[:2]
    assert [item["id"] for item in second["items"]] == ids[2:]
    assert "next_starting_after" not in second


def test_delete_revokes_at_once_and_answers_the_masked_key(app: Any, api: TestClient) -> None:
    created = create_key(api, ["lead_lists:read"])
    client = client_for(app, created["key"])
    assert client.get("/api/v2/lead-lists").status_code == 200

    response = api.delete(f"{KEYS}/{created['id']}")

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "DELETE", f"{KEYS}/{{id}}")
    assert body["id"] == created["id"]
    assert body["key"] == created["key"][:10] + "..."
    assert body["timestamp_updated"] >= created["timestamp_updated"]
    assert_is_error(client.get("/api/v2/lead-lists"), 401)
    assert created["id"] not in [item["id"] for item in api.get(KEYS).json()["items"]]
    assert_is_error(api.delete(f"{KEYS}/{created['id']}"), 404)


def test_a_key_can_revoke_itself(app: Any, api: TestClient) -> None:
    created = create_key(api, ["api_keys:all"])
    client = client_for(app, created["key"])

    assert client.delete(f"{KEYS}/{created['id']}").status_code == 200
    assert_is_error(client.get(KEYS), 401)


def test_unknown_scope_is_400_naming_it(api: TestClient) -> None:
    response = api.post(KEYS, json={"name": "x", "scopes": ["leads:read", "leads:explode"]})

    error = assert_is_error(response, 400)
    assert "`scopes`" in error["message"]
    assert "leads:explode" in error["message"]
    assert "leads:read`" not in error["message"]
    assert len(api.get(KEYS).json()["items"]) == 1


def test_name_and_at_least_one_scope_are_required(api: TestClient) -> None:
    assert (
        "`name`" in assert_is_error(api.post(KEYS, json={"scopes": ["leads:read"]}), 400)["message"]
    )
    assert "`scopes`" in assert_is_error(api.post(KEYS, json={"name": "x"}), 400)["message"]
    assert (
        "`scopes`"
        in assert_is_error(api.post(KEYS, json={"name": "x", "scopes": []}), 400)["message"]
    )
    assert (
        "`name`"
        in assert_is_error(api.post(KEYS, json={"name": "", "scopes": ["all:all"]}), 400)["message"]
    )


def test_every_instantly_scope_and_smart_views_scopes_are_accepted(api: TestClient) -> None:
    instantly = subset()["components"]["schemas"]["APIKey"]["properties"]["scopes"]["items"]["enum"]
    smart_views = [
        f"smart_views:{action}" for action in ("all", "create", "read", "update", "delete")
    ]

    assert list(INSTANTLY_SCOPES) == instantly
    assert set(smart_views) <= KNOWN_SCOPES
    assert set(instantly) | set(smart_views) == KNOWN_SCOPES
    body = create_key(api, [*instantly, *smart_views])
    assert body["scopes"] == [*instantly, *smart_views]


def test_repeated_scopes_are_stored_once(api: TestClient) -> None:
    body = create_key(api, ["leads:read", "leads:read", "campaigns:read"])

    assert body["scopes"] == ["leads:read", "campaigns:read"]


def test_a_key_cannot_grant_a_scope_it_does_not_hold(app: Any, api: TestClient) -> None:
    key_admin = client_for(app, create_key(api, ["api_keys:all", "leads:read"])["key"])

    escalation = key_admin.post(KEYS, json={"name": "x", "scopes": ["all:all", "leads:read"]})
    wider = key_admin.post(KEYS, json={"name": "x", "scopes": ["leads:all"]})

    error = assert_is_error(escalation, 403)
    assert "all:all" in error["message"]
    assert "leads:read`" not in error["message"]
    assert "leads:all" in assert_is_error(wider, 403)["message"]
    narrower = key_admin.post(KEYS, json={"name": "x", "scopes": ["leads:read", "api_keys:read"]})
    assert narrower.status_code == 200


def test_wide_scopes_cover_the_narrow_ones_they_grant(app: Any, api: TestClient) -> None:
    all_create = client_for(app, create_key(api, ["all:create"])["key"])

    assert all_create.post(KEYS, json={"name": "x", "scopes": ["leads:create"]}).status_code == 200
    assert_is_error(all_create.post(KEYS, json={"name": "x", "scopes": ["leads:read"]}), 403)
    assert_is_error(all_create.post(KEYS, json={"name": "x", "scopes": ["leads:all"]}), 403)


def test_another_workspace_cannot_see_or_revoke_the_keys(
    app: Any, api: TestClient, other_workspace: WorkspaceClient
) -> None:
    created = create_key(api, ["leads:read"])
    intruder = other_workspace.client

    assert_is_error(intruder.delete(f"{KEYS}/{created['id']}"), 404)
    [their_key] = intruder.get(KEYS).json()["items"]
    assert their_key["organization_id"] == other_workspace.workspace_id
    assert client_for(app, created["key"]).get("/api/v2/lead-lists").status_code == 403
    assert created["id"] in [item["id"] for item in api.get(KEYS).json()["items"]]


def test_unknown_and_malformed_ids(api: TestClient) -> None:
    assert_is_error(api.delete(f"{KEYS}/{new_id()}"), 404)
    assert "`id`" in assert_is_error(api.delete(f"{KEYS}/42"), 400)["message"]
