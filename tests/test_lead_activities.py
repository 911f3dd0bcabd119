"""``POST /api/v2/lead-activities`` [extension]: events move exactly their own fields."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadroute.db.session import Database
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads
from tests.test_leads_crud import UNKNOWN_ID
from tests.wire import assert_is_error, assert_matches_schema

EARLY = "2026-03-01T09:00:00.000Z"
LATE = "2026-03-02T10:30:15.250Z"


def record(api: TestClient, *activities: dict[str, Any]) -> Any:
    return api.post("/api/v2/lead-activities", json={"activities": list(activities)})


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value differs (``timestamp_updated`` aside), with their new value."""
    keys = (set(before) | set(after)) - {"timestamp_updated"}
    return {key: after.get(key) for key in keys if before.get(key) != after.get(key)}


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        (
            {"type": "sent", "step": 1, "variant": 0},
            {"timestamp_last_contact": LATE, "timestamp_last_touch": LATE},
        ),
        (
            {"type": "opened", "step": 2, "variant": 1},
            {
                "email_open_count": 1,
                "timestamp_last_open": LATE,
                "email_opened_step": 2,
                "email_opened_variant": 1,
            },
        ),
        (
            {"type": "replied", "step": 3, "variant": 0},
            {
                "email_reply_count": 1,
                "timestamp_last_reply": LATE,
                "email_replied_step": 3,
                "email_replied_variant": 0,
            },
        ),
        (
            {"type": "clicked", "step": 1, "variant": 2},
            {
                "email_click_count": 1,
                "timestamp_last_click": LATE,
                "email_clicked_step": 1,
                "email_clicked_variant": 2,
            },
        ),
        ({"type": "bounced"}, {"status": -1}),
        ({"type": "unsubscribed"}, {"status": -2}),
        ({"type": "completed"}, {"status": 3}),
        ({"type": "skipped"}, {"status": -3}),
        ({"type": "verification", "result": "valid"}, {"verification_status": 1}),
        ({"type": "verification", "result": "invalid"}, {"verification_status": -1}),
        ({"type": "verification", "result": "risky"}, {"verification_status": -2}),
        ({"type": "verification", "result": "catch_all"}, {"verification_status": -3}),
        ({"type": "verification", "result": "pending"}, {"verification_status": 11}),
    ],
)
def test_each_type_moves_exactly_its_own_fields(
    api: TestClient,
    workspace: WorkspaceClient,
    db: Database,
    activity: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    [lead_id, bystander] = insert_leads(
        db, workspace.workspace_id, [{"email": "a@acme.io"}, {"email": "b@acme.io"}]
    )
    before = api.get(f"/api/v2/leads/{lead_id}").json()
    untouched = api.get(f"/api/v2/leads/{bystander}").json()

    response = record(api, {"lead_id": lead_id, "timestamp": LATE, **activity})

    assert response.status_code == 200, response.text
    assert response.json() == {"applied": 1}
    after = api.get(f"/api/v2/leads/{lead_id}").json()
    assert_matches_schema(after, "Lead")
    assert changed_fields(before, after) == expected
    assert after["timestamp_updated"] > before["timestamp_updated"]
    assert api.get(f"/api/v2/leads/{bystander}").json() == untouched


def test_counters_add_up_and_timestamps_only_move_forward(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    [lead_id] = insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io"}])
    first = record(
        api,
        {"lead_id": lead_id, "type": "opened", "timestamp": LATE, "step": 2, "variant": 1},
        {"lead_id": lead_id, "type": "opened", "timestamp": EARLY, "step": 1, "variant": 0},
        {"lead_id": lead_id, "type": "sent", "timestamp": LATE},
    )
    assert first.json() == {"applied": 3}
    lead = api.get(f"/api/v2/leads/{lead_id}").json()
    assert lead["email_open_count"] == 2
    assert (lead["timestamp_last_open"], lead["email_opened_step"]) == (LATE, 2)

    # A late-arriving older event counts but moves neither the timestamp nor the step.
    record(
        api,
        {"lead_id": lead_id, "type": "opened", "timestamp": EARLY, "step": 5, "variant": 5},
        {"lead_id": lead_id, "type": "sent", "timestamp": EARLY},
    )
    lead = api.get(f"/api/v2/leads/{lead_id}").json()
    assert lead["email_open_count"] == 3
    assert (lead["timestamp_last_open"], lead["email_opened_step"]) == (LATE, 2)
    assert lead["email_opened_variant"] == 1
    assert (lead["timestamp_last_contact"], lead["timestamp_last_touch"]) == (LATE, LATE)


def test_the_latest_status_event_of_a_batch_wins(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    [lead_id] = insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io"}])
    record(
        api,
        {"lead_id": lead_id, "type": "unsubscribed", "timestamp": LATE},
        {"lead_id": lead_id, "type": "completed", "timestamp": EARLY},
        {"lead_id": lead_id, "type": "verification", "timestamp": LATE, "result": "risky"},
        {"lead_id": lead_id, "type": "verification", "timestamp": EARLY, "result": "valid"},
    )
    lead = api.get(f"/api/v2/leads/{lead_id}").json()
    assert (lead["status"], lead["verification_status"]) == (-2, -2)


def test_an_email_names_every_lead_with_that_address_ignoring_case(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient, db: Database
) -> None:
    ids = insert_leads(
        db, workspace.workspace_id, [{"email": "Ann@acme.io"}, {"email": "ann@ACME.io"}]
    )
    [foreign] = insert_leads(db, other_workspace.workspace_id, [{"email": "ann@acme.io"}])
    response = record(api, {"email": "ANN@acme.io", "type": "replied", "timestamp": LATE})
    assert response.json() == {"applied": 1}
    assert [api.get(f"/api/v2/leads/{i}").json()["email_reply_count"] for i in ids] == [1, 1]
    assert other_workspace.client.get(f"/api/v2/leads/{foreign}").json()["email_reply_count"] == 0


def test_activities_for_unknown_or_foreign_leads_are_skipped_and_not_counted(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient, db: Database
) -> None:
    [lead_id] = insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io"}])
    [foreign] = insert_leads(db, other_workspace.workspace_id, [{"email": "f@globex.io"}])
    foreign_before = other_workspace.client.get(f"/api/v2/leads/{foreign}").json()
    response = record(
        api,
        {"lead_id": lead_id, "type": "clicked", "timestamp": LATE},
        {"lead_id": UNKNOWN_ID, "type": "clicked", "timestamp": LATE},
        {"lead_id": foreign, "type": "clicked", "timestamp": LATE},
        {"email": "f@globex.io", "type": "clicked", "timestamp": LATE},
        {"email": "nobody@acme.io", "type": "bounced", "timestamp": LATE},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"applied": 1}
    assert api.get(f"/api/v2/leads/{lead_id}").json()["email_click_count"] == 1
    assert other_workspace.client.get(f"/api/v2/leads/{foreign}").json() == foreign_before


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"lead_id": "{lead}", "type": "exploded", "timestamp": LATE}, "activities.1.type"),
        ({"lead_id": "not-a-uuid", "type": "opened", "timestamp": LATE}, "activities.1.lead_id"),
        ({"lead_id": "{lead}", "type": "opened"}, "activities.1.timestamp"),
        (
            {"lead_id": "{lead}", "type": "opened", "timestamp": "yesterday"},
            "activities.1.timestamp",
        ),
        (
            {"lead_id": "{lead}", "type": "opened", "timestamp": "0001-01-01T00:00:00+05:00"},
            "activities.1.timestamp",
        ),
        ({"type": "opened", "timestamp": LATE}, "lead_id"),
        ({"email": "  ", "type": "sent", "timestamp": LATE}, "activities.1.email"),
        ({"email": "a\u0000@acme.io", "type": "sent", "timestamp": LATE}, "activities.1.email"),
        ({"lead_id": "{lead}", "email": "a@acme.io", "type": "sent", "timestamp": LATE}, "email"),
        ({"lead_id": "{lead}", "type": "verification", "timestamp": LATE}, "result"),
        (
            {"lead_id": "{lead}", "type": "verification", "timestamp": LATE, "result": "meh"},
            "activities.1.result",
        ),
        ({"lead_id": "{lead}", "type": "opened", "timestamp": LATE, "step": -1}, "step"),
        ({"lead_id": "{lead}", "type": "opened", "timestamp": LATE, "variant": 2**31}, "variant"),
    ],
)
def test_one_bad_activity_rejects_the_whole_batch_and_applies_nothing(
    api: TestClient, workspace: WorkspaceClient, db: Database, bad: dict[str, Any], named: str
) -> None:
    [lead_id] = insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io"}])
    before = api.get(f"/api/v2/leads/{lead_id}").json()
    good = {"lead_id": lead_id, "type": "opened", "timestamp": LATE}
    bad = {key: lead_id if value == "{lead}" else value for key, value in bad.items()}

    response = record(api, good, bad)

    assert named in assert_is_error(response, 400)["message"]
    assert api.get(f"/api/v2/leads/{lead_id}").json() == before


def test_a_batch_holds_1_to_1000_activities(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    [lead_id] = insert_leads(db, workspace.workspace_id, [{"email": "a@acme.io"}])
    opened = {"lead_id": lead_id, "type": "opened", "timestamp": LATE}
    assert record(api).status_code == 400
    assert api.post("/api/v2/lead-activities", json={}).status_code == 400
    too_many = record(api, *[opened] * 1001)
    assert too_many.status_code == 400
    assert "activities" in too_many.json()["message"]
    assert api.get(f"/api/v2/leads/{lead_id}").json()["email_open_count"] == 0

    assert record(api, *[opened] * 1000).json() == {"applied": 1000}
    assert api.get(f"/api/v2/leads/{lead_id}").json()["email_open_count"] == 1000
