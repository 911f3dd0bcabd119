"""Request size limits: a body over 10 MiB is 413 on every endpoint, before anything else;
``ids`` (and the other id lists of a selection) over 10,000 and ``organization_user_ids`` over
1,000 are 400 naming the field, and exactly the limit is accepted.
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.test_auth import ENDPOINTS, Endpoint
from tests.wire import assert_is_error

MIB = 1024 * 1024
MAX_IDS = 10_000
MAX_USERS = 1_000
MAX_BATCH = 1_000

BODY_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if endpoint.method != "GET"]


def json_of_size(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    prefix, suffix = b'{"pad": "', b'"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


def concrete(path: str) -> str:
    return path.replace("{id}", str(uuid.uuid4()))


def uuids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


@pytest.fixture
def list_id(api: TestClient) -> str:
    response = api.post("/api/v2/lead-lists", json={"name": "Limits"})
    assert response.status_code == 200, response.text
    created: str = response.json()["id"]
    return created


# --- body size ---------------------------------------------------------------------------


def test_the_body_limit_is_10_mib(settings: Settings) -> None:
    assert settings.max_body_bytes == 10 * MIB
    assert Settings(database_url="sqlite://").max_body_bytes == 10 * MIB


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_a_body_over_10_mib_is_413_on_every_endpoint(
    endpoint: Endpoint, api: TestClient, settings: Settings
) -> None:
    response = api.request(
        endpoint.method,
        concrete(endpoint.path),
        content=json_of_size(settings.max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )

    error = assert_is_error(response, 413)
    assert str(settings.max_body_bytes) in error["message"]


def test_the_size_is_checked_before_the_key(anonymous: TestClient, settings: Settings) -> None:
    """An oversized body costs no database lookup: 413 even without a key."""
    response = anonymous.post(
        "/api/v2/leads/list",
        content=json_of_size(settings.max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )

    assert_is_error(response, 413)


def test_a_body_of_exactly_10_mib_is_read(api: TestClient, settings: Settings) -> None:
    body = json_of_size(settings.max_body_bytes)
    assert len(body) == 10 * MIB

    response = api.post(
        "/api/v2/leads/list", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200, response.text[:200]


def test_a_streamed_body_over_10_mib_is_413(api: TestClient) -> None:
    """Without a Content-Length the body is counted as it arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(11):
            yield b"x" * MIB
        yield b'"}'

    response = api.post(
        "/api/v2/lead-lists", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.request.headers.get("content-length") is None
    assert_is_error(response, 413)
    assert api.get("/api/v2/lead-lists").json() == {"items": []}


# --- id lists ----------------------------------------------------------------------------

# (method, path, list field, what else the body needs, the answer at the limit)
ID_LISTS: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("POST", "/api/v2/leads/list", "ids", {}, 200),
    ("POST", "/api/v2/leads/list", "excluded_ids", {}, 200),
    ("POST", "/api/v2/leads/bulk-assign", "ids", {"organization_user_ids": ["<owner>"]}, 202),
    ("POST", "/api/v2/leads/move", "ids", {"to_list_id": "<list>"}, 200),
    ("POST", "/api/v2/leads/move", "excluded_ids", {"to_list_id": "<list>"}, 200),
    ("DELETE", "/api/v2/leads", "ids", {"list_id": "<list>"}, 200),
]


def filled(body: dict[str, Any], workspace: WorkspaceClient, list_id: str) -> dict[str, Any]:
    placeholders = {"<owner>": workspace.owner_user_id, "<list>": list_id}

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(item) for item in value]
        return placeholders.get(value, value) if isinstance(value, str) else value

    return {key: fill(value) for key, value in body.items()}


@pytest.mark.parametrize(
    ("method", "path", "field", "rest", "accepted"),
    ID_LISTS,
    ids=[f"{method} {path} {field}" for method, path, field, _, _ in ID_LISTS],
)
def test_more_than_10000_ids_is_400_and_10000_is_accepted(
    method: str,
    path: str,
    field: str,
    rest: dict[str, Any],
    accepted: int,
    api: TestClient,
    workspace: WorkspaceClient,
    list_id: str,
) -> None:
    body = filled(rest, workspace, list_id)

    over = api.request(method, path, json={**body, field: uuids(MAX_IDS + 1)})
    at = api.request(method, path, json={**body, field: uuids(MAX_IDS)})

    error = assert_is_error(over, 400)
    assert f"`{field}`" in error["message"]
    assert str(MAX_IDS) in error["message"]
    assert at.status_code == accepted, at.text[:300]


@pytest.mark.parametrize("path", ["/api/v2/leads/list", "/api/v2/leads/move"])
def test_more_than_10000_contacts_is_400(path: str, api: TestClient, list_id: str) -> None:
    contacts = [f"lead{i}@example.test" for i in range(MAX_IDS + 1)]

    response = api.post(path, json={"contacts": contacts, "to_list_id": list_id})

    assert "`contacts`" in assert_is_error(response, 400)["message"]


# --- organization_user_ids -----------------------------------------------------------------


def test_bulk_assign_to_more_than_1000_users_is_400(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    over = api.post(
        "/api/v2/leads/bulk-assign",
        json={"organization_user_ids": [workspace.owner_user_id] * (MAX_USERS + 1)},
    )

    error = assert_is_error(over, 400)
    assert "`organization_user_ids`" in error["message"]
    assert str(MAX_USERS) in error["message"]


def test_bulk_assign_takes_1000_user_entries(api: TestClient, workspace: WorkspaceClient) -> None:
    """The bound is on the entries given (duplicates are dropped after it is checked)."""
    at = api.post(
        "/api/v2/leads/bulk-assign",
        json={"organization_user_ids": [workspace.owner_user_id] * MAX_USERS},
    )

    assert at.status_code == 202, at.text


@pytest.mark.parametrize(
    ("path", "rest"),
    [("/api/v2/leads/list", {}), ("/api/v2/smart-views", {"name": "Many owners"})],
)
def test_more_than_1000_organization_user_ids_in_a_selection_is_400(
    path: str, rest: dict[str, Any], api: TestClient
) -> None:
    over = api.post(path, json={**rest, "organization_user_ids": uuids(MAX_USERS + 1)})
    at = api.post(path, json={**rest, "organization_user_ids": uuids(MAX_USERS)})

    error = assert_is_error(over, 400)
    assert "`organization_user_ids`" in error["message"]
    assert str(MAX_USERS) in error["message"]
    assert at.status_code == 200, at.text[:300]


# --- batches ---------------------------------------------------------------------------


def test_an_import_of_more_than_1000_leads_is_400(api: TestClient, list_id: str) -> None:
    def leads(count: int) -> list[dict[str, str]]:
        return [{"email": f"lead{i}@example.test"} for i in range(count)]

    over = api.post("/api/v2/leads/add", json={"list_id": list_id, "leads": leads(MAX_BATCH + 1)})
    at = api.post("/api/v2/leads/add", json={"list_id": list_id, "leads": leads(MAX_BATCH)})

    assert "`leads`" in assert_is_error(over, 400)["message"]
    assert at.status_code == 200, at.text[:300]
    assert at.json()["leads_uploaded"] == MAX_BATCH


def test_more_than_1000_activities_in_a_batch_is_400(api: TestClient) -> None:
    now = datetime.now(UTC).isoformat()

    def activities(count: int) -> list[dict[str, str]]:
        return [
            {"email": f"lead{i}@example.test", "type": "sent", "timestamp": now}
            for i in range(count)
        ]

    over = api.post("/api/v2/lead-activities", json={"activities": activities(MAX_BATCH + 1)})
    at = api.post("/api/v2/lead-activities", json={"activities": activities(MAX_BATCH)})

    assert "`activities`" in assert_is_error(over, 400)["message"]
    assert at.status_code == 200, at.text[:300]
