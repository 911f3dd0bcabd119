import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadroute.db.session import Database
from leadroute.ids import new_id
from leadroute.lead_labels.schemas import LeadLabelCreate
from leadroute.lead_labels.service import LeadLabelService
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads
from tests.wire import assert_is_error, assert_matches_schema

LABELS = "/api/v2/lead-labels"


def create_label(api: TestClient, label: str = "Hot", **fields: Any) -> dict[str, Any]:
    body = {"label": label, "interest_status_label": "positive", **fields}
    response = api.post(LABELS, json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_answers_the_label_with_instantlys_fields(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    response = api.post(
        LABELS,
        json={
            "label": "Hot lead",
            "interest_status_label": "positive",
            "description": "Asked for a demo",
            "use_with_ai": True,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, "LeadLabel")
    assert body["label"] == "Hot lead"
    assert body["interest_status_label"] == "positive"
    assert body["interest_status"] == 5
    assert body["description"] == "Asked for a demo"
    assert body["use_with_ai"] is True
    assert body["organization_id"] == workspace.workspace_id
    assert body["created_by"] == workspace.owner_user_id
    assert api.get(f"{LABELS}/{body['id']}").json() == body


def test_interest_status_is_allocated_above_every_number_in_use(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    first = create_label(api, "First")
    explicit = create_label(api, "Explicit", interest_status=40)
    after_explicit = create_label(api, "After explicit")
    negative = create_label(api, "Negative", interest_status=-7, interest_status_label="negative")
    insert_leads(db, workspace.workspace_id, [{"email": "a@x.test", "lt_interest_status": 90}])
    after_lead = create_label(api, "After lead")

    assert first["interest_status"] == 5
    assert explicit["interest_status"] == 40
    assert after_explicit["interest_status"] == 41
    assert negative["interest_status"] == -7
    assert after_lead["interest_status"] == 91


def test_a_deleted_labels_number_is_not_handed_out_while_it_is_not_the_highest(
    api: TestClient,
) -> None:
    five = create_label(api, "Five")
    create_label(api, "Six")
    api.delete(f"{LABELS}/{five['id']}")

    assert create_label(api, "Next")["interest_status"] == 7


def test_allocation_is_per_workspace(api: TestClient, other_workspace: WorkspaceClient) -> None:
    create_label(api, "Mine")
    create_label(api, "Mine too")

    theirs = create_label(other_workspace.client, "Theirs")

    assert theirs["interest_status"] == 5


def test_a_given_interest_status_must_be_outside_the_built_in_set(api: TestClient) -> None:
    for value in (1, 2, 3, 4, 0, -1, -2, -3, -4):
        response = api.post(
            LABELS,
            json={"label": "x", "interest_status_label": "neutral", "interest_status": value},
        )
        assert "`interest_status`" in assert_is_error(response, 400)["message"]
    not_integer = api.post(
        LABELS, json={"label": "x", "interest_status_label": "neutral", "interest_status": 5.5}
    )
    assert "`interest_status`" in assert_is_error(not_integer, 400)["message"]
    assert api.get(LABELS).json() == {"items": []}


def test_a_given_interest_status_is_unique_in_the_workspace(
    api: TestClient, other_workspace: WorkspaceClient
) -> None:
    create_label(api, "Won big", interest_status=12)

    clash = api.post(
        LABELS, json={"label": "Other", "interest_status_label": "neutral", "interest_status": 12}
    )

    assert "12" in assert_is_error(clash, 409)["message"]
    assert (
        create_label(other_workspace.client, "Theirs", interest_status=12)["interest_status"] == 12
    )


def test_create_validates_label_and_sentiment(api: TestClient) -> None:
    no_label = assert_is_error(api.post(LABELS, json={"interest_status_label": "positive"}), 400)
    assert "`label`" in no_label["message"]
    no_sentiment = assert_is_error(api.post(LABELS, json={"label": "x"}), 400)
    assert "`interest_status_label`" in no_sentiment["message"]
    bad_sentiment = api.post(LABELS, json={"label": "x", "interest_status_label": "happy"})
    assert "`interest_status_label`" in assert_is_error(bad_sentiment, 400)["message"]
    empty = api.post(LABELS, json={"label": "", "interest_status_label": "positive"})
    assert "`label`" in assert_is_error(empty, 400)["message"]


def test_patch_changes_label_sentiment_and_description_but_not_the_number(
    api: TestClient,
) -> None:
    created = create_label(api, "Warm", description="maybe")

    response = api.patch(
        f"{LABELS}/{created['id']}",
        json={
            "label": "Lukewarm",
            "interest_status_label": "neutral",
            "description": None,
            "interest_status": 99,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, "LeadLabel")
    assert body == {
        **created,
        "label": "Lukewarm",
        "interest_status_label": "neutral",
        "description": None,
    }
    assert api.get(f"{LABELS}/{created['id']}").json() == body


def test_patch_needs_a_field_and_rejects_nulls_for_required_ones(api: TestClient) -> None:
    created = create_label(api)
    path = f"{LABELS}/{created['id']}"

    assert_is_error(api.patch(path, json={}), 400)
    assert "`label`" in assert_is_error(api.patch(path, json={"label": None}), 400)["message"]
    null_sentiment = api.patch(path, json={"interest_status_label": None})
    assert "`interest_status_label`" in assert_is_error(null_sentiment, 400)["message"]
    assert api.get(path).json() == created


def test_list_searches_labels_and_pages(api: TestClient) -> None:
    ids = [create_label(api, name)["id"] for name in ("Hot", "Cold", "hotter", "Meh")]

    first = api.get(LABELS, params={"limit": 2}).json()
    second = api.get(LABELS, params={"limit": 2, "starting_after": first["next_starting_after"]})
    found = api.get(LABELS, params={"search": "HOT"}).json()

    assert [item["id"] for item in first["items"]] == ids[:2]
    assert [item["id"] for item in second.json()["items"]] == ids[2:]
    assert "next_starting_after" not in second.json()
    assert [item["label"] for item in found["items"]] == ["Hot", "hotter"]
    for item in first["items"]:
        assert_matches_schema(item, "LeadLabel")


def test_delete_answers_the_label(api: TestClient) -> None:
    created = create_label(api)

    response = api.delete(f"{LABELS}/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    assert_is_error(api.get(f"{LABELS}/{created['id']}"), 404)
    assert api.get(LABELS).json() == {"items": []}


def test_unknown_and_malformed_ids(api: TestClient) -> None:
    unknown = new_id()
    assert_is_error(api.get(f"{LABELS}/{unknown}"), 404)
    assert_is_error(api.patch(f"{LABELS}/{unknown}", json={"label": "x"}), 404)
    assert_is_error(api.delete(f"{LABELS}/{unknown}"), 404)
    assert "`id`" in assert_is_error(api.get(f"{LABELS}/x"), 400)["message"]


def test_another_workspace_gets_404_and_an_empty_list(
    api: TestClient, other_workspace: WorkspaceClient
) -> None:
    created = create_label(api)
    intruder = other_workspace.client
    path = f"{LABELS}/{created['id']}"

    assert_is_error(intruder.get(path), 404)
    assert_is_error(intruder.patch(path, json={"label": "Mine"}), 404)
    assert_is_error(intruder.delete(path), 404)
    assert intruder.get(LABELS).json() == {"items": []}
    assert api.get(path).json() == created


def test_allocation_picks_again_when_its_number_was_taken_meanwhile(
    api: TestClient, db: Database, workspace: WorkspaceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_label(api, "Taken")  # 5
    picks = iter([5, 6])

    with db.write_sessions.begin() as session:
        service = LeadLabelService(session, uuid.UUID(workspace.workspace_id))
        monkeypatch.setattr(service, "_next_interest_status", lambda: next(picks))
        label = service.create(
            LeadLabelCreate(label="Racer", interest_status_label="neutral"), created_by=None
        )
        assert label.interest_status == 6

    assert [item["interest_status"] for item in api.get(LABELS).json()["items"]] == [5, 6]
