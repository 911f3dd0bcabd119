"""What the fuzzer found, pinned down: each was a 5xx or an undocumented status before its fix.

- U+0000 in any string of a body or a query string: PostgreSQL cannot store it (500 there);
  now a 400 naming the field on both engines (``leadroute.nul_guard``).
- An interest status beyond 32 bits (``interest_value``, ``lt_interest_status``): a failed
  query on PostgreSQL (500); now a 400 naming the field.
- 409 was answered (duplicate member, finished job, revert of a running job) but not declared
  in the OpenAPI document.
"""

import json
from typing import Any

from fastapi.testclient import TestClient

from leadroute.db.session import Database
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads

NUL_MESSAGE = "must not contain NUL characters (\\u0000)"
SCHEDULE: dict[str, Any] = {
    "schedules": [
        {
            "name": "Office hours",
            "timing": {"from": "09:00", "to": "17:00"},
            "days": {"1": True},
            "timezone": "America/Chicago",
        }
    ]
}


def post_raw(api: TestClient, path: str, text: str) -> Any:
    """``text`` is sent as it is, so JSON escapes reach the server untouched."""
    return api.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


def assert_400(response: Any, message: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"statusCode": 400, "error": "Bad Request", "message": message}


def test_a_nul_character_in_a_body_is_a_400_naming_the_field(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    schedule = json.dumps(SCHEDULE).replace("Office hours", "Office\\u0000hours")
    nested = post_raw(
        api, "/api/v2/campaigns", f'{{"name": "Q1", "campaign_schedule": {schedule}}}'
    )
    assert_400(nested, f"`campaign_schedule.schedules.0.name`: {NUL_MESSAGE}")
    assert_400(
        post_raw(api, "/api/v2/lead-lists", '{"name": "a\\u0000"}'), f"`name`: {NUL_MESSAGE}"
    )

    (lead_id,) = insert_leads(db, workspace.workspace_id, [{"email": "a@example.test"}])
    key = api.patch(f"/api/v2/leads/{lead_id}", json={"custom_variables": {"ti\x00er": 1}})
    assert_400(key, f"`custom_variables.ti\\u0000er`: {NUL_MESSAGE}")
    job = post_raw(
        api,
        "/api/v2/leads/update-interest-status",
        '{"lead_email": "\\u0000@example.test", "interest_value": 1}',
    )
    assert_400(job, f"`lead_email`: {NUL_MESSAGE}")
    assert api.get("/api/v2/background-jobs").json()["items"] == []


def test_the_text_backslash_u0000_is_not_a_nul_character(api: TestClient) -> None:
    created = post_raw(api, "/api/v2/lead-lists", '{"name": "C:\\\\u0000"}')
    assert created.status_code == 200, created.text
    assert created.json()["name"] == "C:\\u0000"


def test_a_nul_character_in_a_query_parameter_is_a_400_naming_it(api: TestClient) -> None:
    assert_400(api.get("/api/v2/lead-lists?search=a%00b"), f"`search`: {NUL_MESSAGE}")
    assert_400(api.get("/api/v2/campaigns", params={"search": "\x00"}), f"`search`: {NUL_MESSAGE}")
    assert api.get("/api/v2/lead-lists?search=a%2500b").status_code == 200  # the text "%00"


def test_interest_statuses_beyond_32_bits_are_a_400(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    (lead_id,) = insert_leads(db, workspace.workspace_id, [{"email": "a@example.test"}])
    too_big = api.post(
        "/api/v2/leads/update-interest-status",
        json={"lead_email": "a@example.test", "interest_value": 2**31},
    )
    assert too_big.status_code == 400, too_big.text
    assert too_big.json()["message"].startswith("`interest_value`:")
    patched = api.patch(f"/api/v2/leads/{lead_id}", json={"lt_interest_status": -(2**31)})
    assert patched.status_code == 400, patched.text
    assert patched.json()["message"].startswith("`lt_interest_status`:")
    label = {"label": "Top", "interest_status_label": "positive", "interest_status": 2**31 - 1}
    assert api.post("/api/v2/lead-labels", json=label).status_code == 200
    largest = api.patch(f"/api/v2/leads/{lead_id}", json={"lt_interest_status": 2**31 - 1})
    assert largest.status_code == 200, largest.text
    assert largest.json()["lt_interest_status"] == 2**31 - 1


def test_every_operation_declares_409_in_the_error_envelope(api: TestClient) -> None:
    document = api.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            conflict = operation["responses"].get("409")
            assert conflict is not None, (method, path)
            schema = conflict["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
