import copy
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadroute.campaigns.timezones import SCHEDULE_TIMEZONES
from leadroute.db.session import Database
from leadroute.ids import new_id
from leadroute.leads.models import Lead
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads
from tests.wire import assert_is_error, assert_matches_response, subset

CAMPAIGNS = "/api/v2/campaigns"

SCHEDULE: dict[str, Any] = {
    "schedules": [
        {
            "name": "Office hours",
            "timing": {"from": "09:00", "to": "17:30"},
            "days": {"1": True, "2": True, "3": True, "4": True, "5": True},
            "timezone": "America/Chicago",
        }
    ],
    "start_date": "2026-12-01",
    "end_date": None,
}

# Every writable field of Instantly's campaign body, in a shape Instantly accepts.
FULL_BODY: dict[str, Any] = {
    "name": "Q1 outbound",
    "campaign_schedule": SCHEDULE,
    "pl_value": 100,
    "is_evergreen": False,
    "sequences": [
        {
            "steps": [
                {
                    "type": "email",
                    "delay": 2,
                    "delay_unit": "days",
                    "pre_delay": 0.5,
                    "pre_delay_unit": "hours",
                    "variants": [
                        {"subject": "Hi {{firstName}}", "body": "Hello", "v_disabled": False},
                        {"subject": "Quick one", "body": "Short"},
                    ],
                }
            ]
        }
    ],
    "email_gap": 10,
    "random_wait_max": 7.5,
    "text_only": None,
    "first_email_text_only": True,
    "email_list": ["sender@acme.test"],
    "daily_limit": 50,
    "stop_on_reply": True,
    "email_tag_list": [str(uuid.UUID(int=1))],
    "link_tracking": False,
    "open_tracking": True,
    "stop_on_auto_reply": False,
    "daily_max_leads": 0,
    "prioritize_new_leads": True,
    "auto_variant_select": {"trigger": "reply_rate"},
    "match_lead_esp": None,
    "stop_for_company": True,
    "insert_unsubscribe_header": True,
    "allow_risky_contacts": False,
    "disable_bounce_protect": False,
    "limit_emails_per_company_override": {
        "mode": "custom",
        "daily_limit": 3,
        "scope": "per_campaign",
    },
    "cc_list": ["cc@acme.test"],
    "bcc_list": [],
    "ai_sdr_id": None,
    "provider_routing_rules": [
        {"action": "send", "recipient_esp": ["google"], "sender_esp": ["google", "outlook"]}
    ],
}

CORE_FIELDS = {
    "id",
    "name",
    "status",
    "campaign_schedule",
    "timestamp_created",
    "timestamp_updated",
    "organization",
}


def create_campaign(api: TestClient, name: str = "Outbound", **fields: Any) -> dict[str, Any]:
    response = api.post(CAMPAIGNS, json={"name": name, "campaign_schedule": SCHEDULE, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_answers_a_draft_with_exactly_the_given_fields(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    response = api.post(CAMPAIGNS, json={"name": "Outbound", "campaign_schedule": SCHEDULE})

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "POST", CAMPAIGNS)
    assert set(body) == CORE_FIELDS
    assert body["name"] == "Outbound"
    assert body["status"] == 0
    assert body["organization"] == workspace.workspace_id
    assert body["campaign_schedule"] == SCHEDULE
    assert body["timestamp_created"] == body["timestamp_updated"]
    assert api.get(f"{CAMPAIGNS}/{body['id']}").json() == body


def test_every_instantly_field_is_stored_and_answered_as_given(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    given = {**FULL_BODY, "owned_by": workspace.owner_user_id}
    response = api.post(CAMPAIGNS, json=given)

    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches_response(body, "POST", CAMPAIGNS)
    assert {key: body[key] for key in given} == given
    assert set(body) == CORE_FIELDS | set(given)
    fetched = api.get(f"{CAMPAIGNS}/{body['id']}").json()
    assert fetched == body
    assert_matches_response(fetched, "GET", f"{CAMPAIGNS}/{{id}}")


def test_the_test_body_covers_every_writable_field_of_the_subset() -> None:
    request = subset()["paths"][CAMPAIGNS]["post"]["requestBody"]["content"]["application/json"]
    # `owned_by` must name a member, so its tests set it from the workspace fixture.
    assert set(request["schema"]["properties"]) == {*FULL_BODY, "owned_by"}


def test_unknown_fields_are_ignored_not_stored(api: TestClient) -> None:
    body = create_campaign(api, status=1, organization_id="x", warmup=True)

    assert set(body) == CORE_FIELDS
    assert body["status"] == 0
    assert_matches_response(body, "POST", CAMPAIGNS)


def test_name_and_schedule_are_required_and_validated(api: TestClient) -> None:
    no_name = assert_is_error(api.post(CAMPAIGNS, json={"campaign_schedule": SCHEDULE}), 400)
    assert "`name`" in no_name["message"]
    no_schedule = assert_is_error(api.post(CAMPAIGNS, json={"name": "x"}), 400)
    assert "`campaign_schedule`" in no_schedule["message"]
    empty = assert_is_error(
        api.post(CAMPAIGNS, json={"name": "x", "campaign_schedule": {"schedules": []}}), 400
    )
    assert "`campaign_schedule.schedules`" in empty["message"]
    assert api.get(CAMPAIGNS).json()["items"] == []


def test_schedule_fields_are_checked_like_instantly(api: TestClient) -> None:
    def with_schedule(change: dict[str, Any]) -> str:
        schedule = copy.deepcopy(SCHEDULE)
        schedule["schedules"][0].update(change)
        response = api.post(CAMPAIGNS, json={"name": "x", "campaign_schedule": schedule})
        message: str = assert_is_error(response, 400)["message"]
        return message

    assert "`campaign_schedule.schedules.0.timezone`" in with_schedule({"timezone": "Europe/Paris"})
    assert "`campaign_schedule.schedules.0.timing.from`" in with_schedule(
        {"timing": {"from": "25:00", "to": "17:00"}}
    )
    assert "`campaign_schedule.schedules.0.days`" in with_schedule({"days": {}})
    assert "`campaign_schedule.schedules.0.days.7" in with_schedule({"days": {"7": True}})
    bad_date = api.post(
        CAMPAIGNS, json={"name": "x", "campaign_schedule": {**SCHEDULE, "start_date": "01/12/2026"}}
    )
    assert "`campaign_schedule.start_date`" in assert_is_error(bad_date, 400)["message"]


def test_every_instantly_time_zone_is_accepted(api: TestClient) -> None:
    schema = subset()["components"]["schemas"]["Campaign"]["properties"]["campaign_schedule"]
    timezone = schema["properties"]["schedules"]["items"]["properties"]["timezone"]
    assert list(SCHEDULE_TIMEZONES) == timezone["enum"]
    schedule = copy.deepcopy(SCHEDULE)
    schedule["schedules"] = [
        {**SCHEDULE["schedules"][0], "name": name, "timezone": name} for name in SCHEDULE_TIMEZONES
    ]
    assert create_campaign(api, campaign_schedule=schedule)["campaign_schedule"] == schedule


def test_settings_keep_their_json_types(api: TestClient) -> None:
    wrong_bool = api.post(
        CAMPAIGNS, json={"name": "x", "campaign_schedule": SCHEDULE, "stop_on_reply": "yes"}
    )
    assert "`stop_on_reply`" in assert_is_error(wrong_bool, 400)["message"]
    wrong_number = api.post(
        CAMPAIGNS, json={"name": "x", "campaign_schedule": SCHEDULE, "daily_limit": "50"}
    )
    assert "`daily_limit`" in assert_is_error(wrong_number, 400)["message"]
    negative = api.post(
        CAMPAIGNS, json={"name": "x", "campaign_schedule": SCHEDULE, "daily_max_leads": -1}
    )
    assert "`daily_max_leads`" in assert_is_error(negative, 400)["message"]
    not_nullable = api.post(
        CAMPAIGNS, json={"name": "x", "campaign_schedule": SCHEDULE, "open_tracking": None}
    )
    assert "`open_tracking`" in assert_is_error(not_nullable, 400)["message"]
    body = create_campaign(api, daily_limit=50, pl_value=12.5)
    assert body["daily_limit"] == 50
    assert isinstance(body["daily_limit"], int)
    assert body["pl_value"] == 12.5


def test_owned_by_must_be_a_member_user(api: TestClient, workspace: WorkspaceClient) -> None:
    body = create_campaign(api, owned_by=workspace.owner_user_id)
    assert body["owned_by"] == workspace.owner_user_id

    stranger = api.post(
        CAMPAIGNS, json={"name": "x", "campaign_schedule": SCHEDULE, "owned_by": str(new_id())}
    )
    assert "`owned_by`" in assert_is_error(stranger, 400)["message"]


def test_patch_replaces_given_fields_and_keeps_the_others(api: TestClient) -> None:
    created = create_campaign(api, daily_limit=50, sequences=FULL_BODY["sequences"])
    schedule = {
        "schedules": [
            {
                "name": "Weekend",
                "timing": {"from": "10:00", "to": "12:00"},
                "days": {"6": True},
                "timezone": "Europe/Helsinki",
            }
        ]
    }

    response = api.patch(
        f"{CAMPAIGNS}/{created['id']}",
        json={"name": "Renamed", "campaign_schedule": schedule, "stop_on_reply": False},
    )

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "PATCH", f"{CAMPAIGNS}/{{id}}")
    assert body["name"] == "Renamed"
    assert body["campaign_schedule"] == schedule
    assert body["stop_on_reply"] is False
    assert body["daily_limit"] == 50
    assert body["sequences"] == FULL_BODY["sequences"]
    assert body["timestamp_created"] == created["timestamp_created"]
    assert body["timestamp_updated"] >= created["timestamp_updated"]
    assert api.get(f"{CAMPAIGNS}/{created['id']}").json() == body


def test_patch_sets_a_nullable_field_to_null(api: TestClient) -> None:
    created = create_campaign(api, daily_limit=50)

    body = api.patch(f"{CAMPAIGNS}/{created['id']}", json={"daily_limit": None}).json()

    assert body["daily_limit"] is None


def test_patch_needs_a_field_and_never_nulls_a_required_one(api: TestClient) -> None:
    created = create_campaign(api)
    path = f"{CAMPAIGNS}/{created['id']}"

    assert_is_error(api.patch(path, json={}), 400)
    assert_is_error(api.patch(path, json={"status": 1}), 400)
    assert "`name`" in assert_is_error(api.patch(path, json={"name": None}), 400)["message"]
    null_schedule = api.patch(path, json={"campaign_schedule": None})
    assert "`campaign_schedule`" in assert_is_error(null_schedule, 400)["message"]
    assert api.get(path).json() == created


def test_list_searches_names_filters_status_and_pages(api: TestClient) -> None:
    names = ["Alpha push", "Beta", "alphabet soup", "Gamma"]
    ids = [create_campaign(api, name)["id"] for name in names]

    first = api.get(CAMPAIGNS, params={"limit": 3}).json()
    second = api.get(CAMPAIGNS, params={"limit": 3, "starting_after": ids[2]}).json()
    found = api.get(CAMPAIGNS, params={"search": "ALPHA"}).json()

    assert_matches_response(first, "GET", CAMPAIGNS)
    assert [item["id"] for item in first["items"]] == ids[:3]
    assert first["next_starting_after"] == ids[2]
    assert [item["id"] for item in second["items"]] == ids[3:]
    assert "next_starting_after" not in second
    assert [item["name"] for item in found["items"]] == ["Alpha push", "alphabet soup"]
    drafts = api.get(CAMPAIGNS, params={"status": 0}).json()["items"]
    assert [item["id"] for item in drafts] == ids
    assert api.get(CAMPAIGNS, params={"status": 1}).json()["items"] == []
    assert api.get(CAMPAIGNS, params={"exclude_status": 0}).json()["items"] == []
    assert "`status`" in assert_is_error(api.get(CAMPAIGNS, params={"status": 9}), 400)["message"]


def test_delete_answers_the_campaign_and_deletes_its_leads(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    doomed = create_campaign(api, "Doomed")
    kept = create_campaign(api, "Kept")
    insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": "a@x.test", "campaign": doomed["id"]},
            {"email": "b@x.test", "campaign": doomed["id"]},
            {"email": "c@x.test", "campaign": kept["id"]},
            {"email": "d@x.test"},
        ],
    )

    response = api.delete(f"{CAMPAIGNS}/{doomed['id']}")

    assert response.status_code == 200
    assert response.json() == doomed
    assert_matches_response(response.json(), "DELETE", f"{CAMPAIGNS}/{{id}}")
    assert_is_error(api.get(f"{CAMPAIGNS}/{doomed['id']}"), 404)
    with db.read_sessions() as session:
        emails = session.scalars(select(Lead.email).order_by(Lead.email)).all()
        left = session.scalar(select(func.count()).where(Lead.campaign == uuid.UUID(doomed["id"])))
    assert emails == ["c@x.test", "d@x.test"]
    assert left == 0


def test_unknown_and_malformed_ids(api: TestClient) -> None:
    unknown = new_id()
    assert_is_error(api.get(f"{CAMPAIGNS}/{unknown}"), 404)
    assert_is_error(api.patch(f"{CAMPAIGNS}/{unknown}", json={"name": "x"}), 404)
    assert_is_error(api.delete(f"{CAMPAIGNS}/{unknown}"), 404)
    assert "`id`" in assert_is_error(api.get(f"{CAMPAIGNS}/abc"), 400)["message"]


def test_another_workspace_gets_404_and_an_empty_list(
    api: TestClient, other_workspace: WorkspaceClient
) -> None:
    created = create_campaign(api, "Private")
    intruder = other_workspace.client
    path = f"{CAMPAIGNS}/{created['id']}"

    assert_is_error(intruder.get(path), 404)
    assert_is_error(intruder.patch(path, json={"name": "Mine now"}), 404)
    assert_is_error(intruder.delete(path), 404)
    assert intruder.get(CAMPAIGNS).json() == {"items": []}
    assert intruder.get(CAMPAIGNS, params={"search": "Private"}).json() == {"items": []}
    assert api.get(path).json() == created
