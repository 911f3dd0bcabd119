"""``POST /api/v2/leads/list``: a selection, keyset-paged by lead id."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from leadroute.db.session import Database
from tests.conftest import SPEC_DIR, WorkspaceClient
from tests.factories import insert_leads, many_leads
from tests.test_selection import add_campaign, add_list, selected_ids
from tests.test_smart_views import client_with_scopes


def lead_schema() -> dict[str, Any]:
    spec = json.loads((SPEC_DIR / "instantly-v2-subset.json").read_text())
    schema: dict[str, Any] = spec["paths"]["/api/v2/leads/list"]["post"]["responses"]["200"][
        "content"
    ]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


def test_pages_of_ten_over_25_leads_in_id_order(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    ids = insert_leads(db, workspace.workspace_id, many_leads(25))
    first = api.post("/api/v2/leads/list", json={}).json()
    assert [item["id"] for item in first["items"]] == ids[:10]
    assert first["next_starting_after"] == ids[9]
    second = api.post(
        "/api/v2/leads/list", json={"starting_after": first["next_starting_after"], "limit": 10}
    ).json()
    assert [item["id"] for item in second["items"]] == ids[10:20]
    third = api.post(
        "/api/v2/leads/list", json={"starting_after": second["next_starting_after"]}
    ).json()
    assert [item["id"] for item in third["items"]] == ids[20:]
    assert "next_starting_after" not in third


def test_a_page_that_ends_exactly_at_the_last_lead_has_no_cursor(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    ids = insert_leads(db, workspace.workspace_id, many_leads(10))
    page = api.post("/api/v2/leads/list", json={"limit": 10}).json()
    assert [item["id"] for item in page["items"]] == ids
    assert "next_starting_after" not in page
    assert api.post("/api/v2/leads/list", json={"starting_after": ids[-1]}).json() == {"items": []}


def test_items_are_instantly_leads(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": "anne@acme.test", "campaign": campaign, "lt_interest_status": 1},
            {"email": "bob@acme.test"},
        ],
    )
    body = api.post("/api/v2/leads/list", json={"limit": 1}).json()
    jsonschema.validate(body, lead_schema())
    item = body["items"][0]
    assert item["organization"] == workspace.workspace_id
    assert item["campaign"] == campaign
    assert item["email"] == "anne@acme.test"


def test_a_listed_lead_is_the_lead_its_own_endpoint_answers(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    """A page reads UUIDs and timestamps as the driver returns them (pydantic parses them);
    ``GET /leads/{id}`` reads them through the ORM: the same wire values either way."""
    owner = api.get("/api/v2/workspace-members").json()["items"][0]["user_id"]
    stamp = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    timestamps = {
        name: stamp + timedelta(days=day)
        for day, name in enumerate(
            (
                "timestamp_created",
                "timestamp_updated",
                "last_step_timestamp_executed",
                "timestamp_added_subsequence",
                "timestamp_last_contact",
                "timestamp_last_open",
                "timestamp_last_reply",
                "timestamp_last_interest_change",
                "timestamp_last_click",
                "timestamp_last_touch",
            )
        )
    }
    insert_leads(
        db,
        workspace.workspace_id,
        [
            {
                "email": "full@acme.test",
                "campaign": add_campaign(db, workspace.workspace_id),
                "list_id": add_list(db, workspace.workspace_id),
                "subsequence_id": uuid.uuid4(),
                "uploaded_by_user": uuid.UUID(owner),
                "assigned_to": uuid.UUID(owner),
                "status_summary": {"from": "a@b.test"},
                "payload": {"tier": "gold"},
                **timestamps,
            },
            {"email": "bare@acme.test", "timestamp_created": stamp.replace(microsecond=0)},
        ],
    )

    items = api.post("/api/v2/leads/list", json={}).json()["items"]

    assert len(items) == 2
    for item in items:
        assert item == api.get(f"/api/v2/leads/{item['id']}").json()
    assert items[0]["timestamp_last_touch"] == "2026-03-13T05:06:07.890Z"
    assert items[0]["assigned_to"] == owner
    assert items[1]["timestamp_created"] == "2026-03-04T05:06:07.000Z"


def test_distinct_contacts_keeps_the_first_selected_lead_of_each_address(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    campaign = add_campaign(db, workspace.workspace_id)
    ids = insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": "anne@acme.test"},
            {"email": "ANNE@acme.test", "campaign": campaign},
            {"email": "bob@acme.test", "campaign": campaign},
            {"email": "Anne@Acme.test", "campaign": campaign},
            {"email": None},
            {"email": None, "campaign": campaign},
            {"email": "bob@acme.test"},
        ],
    )
    assert selected_ids(api, {"distinct_contacts": True}) == [ids[0], ids[2], ids[4], ids[5]]
    # Only selected leads count as duplicates: the first Anne is not in the campaign.
    assert selected_ids(api, {"distinct_contacts": True, "campaign": campaign}) == [
        ids[1],
        ids[2],
        ids[5],
    ]
    assert selected_ids(api, {"distinct_contacts": False}) == ids
    paged = api.post("/api/v2/leads/list", json={"distinct_contacts": True, "limit": 2}).json()
    assert [item["id"] for item in paged["items"]] == [ids[0], ids[2]]
    rest = api.post(
        "/api/v2/leads/list",
        json={"distinct_contacts": True, "starting_after": paged["next_starting_after"]},
    ).json()
    assert [item["id"] for item in rest["items"]] == [ids[4], ids[5]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"starting_after": "nope"}, "starting_after"),
        ({"filter": "FILTER_NOPE"}, "filter"),
        ({"queries": [{"actionType": "bounce", "values": {"occurrence-days": 1}}]}, "queries"),
        ({"queries": [{"actionType": "reply", "values": {"occurrence-days": -1}}]}, "queries"),
        ({"campaign": "nope"}, "campaign"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    api: TestClient, body: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v2/leads/list", json=body)
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400
    assert response.json()["error"] == "Bad Request"
    assert response.json()["message"].startswith(f"`{field}")


def test_a_body_that_is_not_json_is_400(api: TestClient) -> None:
    response = api.post(
        "/api/v2/leads/list", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_unknown_fields_are_ignored(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    ids = insert_leads(db, workspace.workspace_id, many_leads(2))
    assert selected_ids(api, {"has_clause": True, "esp_code": 1}) == ids


def test_listing_needs_leads_read(app: Any, db: Database, workspace: WorkspaceClient) -> None:
    insert_leads(db, workspace.workspace_id, many_leads(1))
    reader = client_with_scopes(app, db, workspace, ["leads:read"])
    assert reader.post("/api/v2/leads/list", json={}).status_code == 200
    other = client_with_scopes(app, db, workspace, ["lead_lists:all"])
    assert other.post("/api/v2/leads/list", json={}).status_code == 403


def test_listing_needs_a_key(anonymous: TestClient) -> None:
    assert anonymous.post("/api/v2/leads/list", json={}).status_code == 401
