"""Every failure answers the envelope ``{"statusCode", "error", "message"}``."""

import copy
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from leadroute.app import create_app
from leadroute.db.session import Database
from leadroute.settings import Settings
from tests.wire import assert_is_error, assert_matches_response

SCHEDULE = {
    "schedules": [
        {
            "name": "Office hours",
            "timing": {"from": "09:00", "to": "17:00"},
            "days": {"1": True},
            "timezone": "America/Chicago",
        }
    ]
}


def test_an_unknown_route_is_404_with_or_without_a_key(
    api: TestClient, anonymous: TestClient
) -> None:
    for client in (api, anonymous):
        response = client.get("/api/v2/no-such-thing")
        assert response.json() == {
            "statusCode": 404,
            "error": "Not Found",
            "message": "Route not found",
        }
        assert response.status_code == 404
    assert_is_error(api.post("/api/v3/leads", json={}), 404)


def test_a_wrong_method_is_405(api: TestClient) -> None:
    response = api.delete("/api/v2/workspaces/current")

    assert_is_error(response, 405)
    # Starlette names the methods of the first route on the path only (GET, not PATCH).
    assert "GET" in response.headers["allow"]
    assert_is_error(api.put("/api/v2/campaigns", json={}), 405)


def test_malformed_json_is_400(api: TestClient) -> None:
    response = api.post(
        "/api/v2/campaigns",
        content=b'{"name": "x", ',
        headers={"Content-Type": "application/json"},
    )

    error = assert_is_error(response, 400)
    assert error["message"] == "`body`: is not valid JSON"
    assert_matches_response(error, "POST", "/api/v2/api-keys", status=400)


def test_a_body_that_is_not_an_object_is_400(api: TestClient) -> None:
    assert "`body`" in assert_is_error(api.post("/api/v2/lead-labels", json=[1, 2]), 400)["message"]
    assert "`body`" in assert_is_error(api.post("/api/v2/lead-labels"), 400)["message"]
    text = api.post(
        "/api/v2/lead-labels",
        content=b'{"label": "x", "interest_status_label": "neutral"}',
        headers={"Content-Type": "text/plain"},
    )
    assert_is_error(text, 400)


def test_a_body_over_the_limit_is_413(api: TestClient, settings: Settings) -> None:
    assert settings.max_body_bytes == 10 * 1024 * 1024
    oversized = b'{"name": "' + b"x" * settings.max_body_bytes + b'"}'

    response = api.post(
        "/api/v2/lead-lists", content=oversized, headers={"Content-Type": "application/json"}
    )

    error = assert_is_error(response, 413)
    assert str(settings.max_body_bytes) in error["message"]
    assert api.get("/api/v2/lead-lists").json() == {"items": []}


def test_a_body_just_under_the_limit_is_read(api: TestClient, settings: Settings) -> None:
    prefix, suffix = b'{"name": "ok", "pad": "', b'"}'
    padding = b"x" * (settings.max_body_bytes - len(prefix) - len(suffix))

    response = api.post(
        "/api/v2/lead-lists",
        content=prefix + padding + suffix,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 200


def test_a_streamed_body_over_the_limit_is_413(
    db: Database, settings: Settings, api: TestClient
) -> None:
    small = create_app(settings.model_copy(update={"max_body_bytes": 1000}), database=db)
    client = TestClient(small, raise_server_exceptions=False)
    client.headers["Authorization"] = api.headers["Authorization"]

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        yield b"x" * 2000
        yield b'"}'

    response = client.post(
        "/api/v2/lead-lists", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.request.headers.get("content-length") is None
    assert_is_error(response, 413)


def test_validation_errors_are_400_naming_the_field(api: TestClient) -> None:
    missing = assert_is_error(api.post("/api/v2/api-keys", json={"name": "x"}), 400)
    assert missing["message"] == "`scopes`: Field required"

    schedule = copy.deepcopy(SCHEDULE)
    schedule["schedules"][0]["timing"]["to"] = "5pm"
    nested = api.post("/api/v2/campaigns", json={"name": "x", "campaign_schedule": schedule})
    assert "`campaign_schedule.schedules.0.timing.to`" in assert_is_error(nested, 400)["message"]

    several = assert_is_error(api.post("/api/v2/workspace-members", json={}), 400)
    assert "`email`" in several["message"]
    assert "`role`" in several["message"]


def test_query_and_path_parameters_are_400_naming_them(api: TestClient) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "ten"}):
        error = assert_is_error(api.get("/api/v2/campaigns", params=params), 400)
        assert error["message"].startswith("`limit`")
    cursor = assert_is_error(api.get("/api/v2/campaigns", params={"starting_after": "x"}), 400)
    assert cursor["message"].startswith("`starting_after`")
    path = assert_is_error(api.get("/api/v2/campaigns/123"), 400)
    assert path["message"].startswith("`id`")


def test_a_field_named_body_is_named_in_the_error(api: TestClient) -> None:
    sequences = [{"steps": [{"type": "email", "delay": 1, "variants": [{"subject": "Hi"}]}]}]

    response = api.post(
        "/api/v2/campaigns",
        json={"name": "x", "campaign_schedule": SCHEDULE, "sequences": sequences},
    )

    error = assert_is_error(response, 400)
    assert "`sequences.0.steps.0.variants.0.body`" in error["message"]


def test_an_unexpected_exception_is_a_500_envelope(db: Database, settings: Settings) -> None:
    app = create_app(settings, database=db)

    def explode() -> Any:
        raise RuntimeError("boom")

    app.add_api_route("/api/v2/explode", explode)
    client = TestClient(app, raise_server_exceptions=False)

    response = client.get("/api/v2/explode")

    assert response.json() == {
        "statusCode": 500,
        "error": "Internal Server Error",
        "message": "Internal server error",
    }
    assert "boom" not in response.text
