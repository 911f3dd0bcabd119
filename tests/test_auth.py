"""Authentication and the scope rules, over every endpoint the app has.

The scope matrix is data-driven: it walks the app's routes, reads the scope each endpoint
declares (its ``RequireScope`` dependency), checks that declaration against the contract
(``x-required-scopes`` of the subset file, the decisions of api.md, and the table of
leadroute's own endpoints below) and then exercises it over HTTP. A new endpoint is covered
as soon as its router is registered; add it to ``LEADROUTE_SCOPES`` when Instantly's subset
does not list it.
"""

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import BaseRoute

from leadroute.api_keys.models import ApiKey
from leadroute.api_keys.service import ApiKeyService
from leadroute.app import create_app
from leadroute.auth.dependencies import RequireScope
from leadroute.db.session import Database
from leadroute.ids import new_id
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.wire import assert_is_error, subset

ACTIONS = ("read", "create", "update", "delete")

# api.md section 2 [decided]: Instantly lists no scope for these two.
DECIDED_SCOPES = {
    "POST /api/v2/leads/bulk-assign": ("leads", "update"),
    "POST /api/v2/leads/update-interest-status": ("leads", "update"),
}

# Endpoints that the subset file does not describe: Instantly's own (lead labels, from its
# public reference) and leadroute's extensions.
LEADROUTE_SCOPES = {
    "POST /api/v2/lead-labels": ("lead-labels", "create"),
    "GET /api/v2/lead-labels": ("lead-labels", "read"),
    "GET /api/v2/lead-labels/{id}": ("lead-labels", "read"),
    "PATCH /api/v2/lead-labels/{id}": ("lead-labels", "update"),
    "DELETE /api/v2/lead-labels/{id}": ("lead-labels", "delete"),
    "POST /api/v2/smart-views": ("smart_views", "create"),
    "GET /api/v2/smart-views": ("smart_views", "read"),
    "GET /api/v2/smart-views/{id}": ("smart_views", "read"),
    "PATCH /api/v2/smart-views/{id}": ("smart_views", "update"),
    "DELETE /api/v2/smart-views/{id}": ("smart_views", "delete"),
    # api.md [decided]: bulk-assign and update-interest-status need leads:update
    "POST /api/v2/leads/bulk-assign": ("leads", "update"),
    "POST /api/v2/leads/update-interest-status": ("leads", "update"),
    # leadroute's extensions
    "POST /api/v2/lead-activities": ("leads", "update"),
    "GET /api/v2/leads/owner-counts": ("leads", "read"),
    "GET /api/v2/leads/{id}/assignment-history": ("leads", "read"),
    "POST /api/v2/background-jobs/{id}/cancel": ("background-jobs", "update"),
    "POST /api/v2/background-jobs/{id}/revert": ("leads", "update"),
    "POST /api/v2/webhooks": ("webhooks", "create"),
    "GET /api/v2/webhooks": ("webhooks", "read"),
    "GET /api/v2/webhooks/{id}": ("webhooks", "read"),
    "PATCH /api/v2/webhooks/{id}": ("webhooks", "update"),
    "DELETE /api/v2/webhooks/{id}": ("webhooks", "delete"),
    "GET /api/v2/webhooks/{id}/deliveries": ("webhooks", "read"),
}


def contract_scopes() -> dict[str, tuple[str, str]]:
    contract: dict[str, tuple[str, str]] = {}
    for endpoint, scopes in subset()["x-required-scopes"].items():
        if scopes:
            resource, action = scopes[0].split(":")
            contract[endpoint] = (resource, action)
    return {**contract, **DECIDED_SCOPES, **LEADROUTE_SCOPES}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    resource: str
    action: str

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def call(self, client: TestClient) -> Any:
        url = self.path
        while "{" in url:
            start, end = url.index("{"), url.index("}")
            url = url[:start] + str(new_id()) + url[end + 1 :]
        if self.method in ("POST", "PATCH", "PUT"):
            return client.request(self.method, url, json={})
        return client.request(self.method, url)


def declared_scopes(route: APIRoute) -> list[RequireScope]:
    def walk(dependant: Any) -> Iterator[RequireScope]:
        for dependency in dependant.dependencies:
            if isinstance(dependency.call, RequireScope):
                yield dependency.call
            yield from walk(dependency)

    return list(walk(route.dependant))


def flatten_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    # FastAPI keeps an included router as one route that wraps it (`original_router`).
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif isinstance(getattr(route, "original_router", None), APIRouter):
            yield from flatten_routes(route.original_router.routes)  # type: ignore[attr-defined]


def api_routes() -> list[APIRoute]:
    app = create_app(Settings(database_url="sqlite://"))
    return [route for route in flatten_routes(app.routes) if route.path.startswith("/api/v2/")]


def app_endpoints() -> list[Endpoint]:
    endpoints = []
    for route in api_routes():
        for scope in declared_scopes(route)[:1]:
            for method in sorted(route.methods):
                endpoints.append(Endpoint(method, route.path, scope.resource, scope.action))
    return endpoints


ENDPOINTS = app_endpoints()


def key_clients(
    app: Any, db: Database, workspace: WorkspaceClient, scope_sets: dict[str, list[str]]
) -> dict[str, TestClient]:
    """A client per named scope list, each with a fresh key of the workspace."""
    clients = {}
    with db.write_sessions.begin() as session:
        service = ApiKeyService(session, uuid.UUID(workspace.workspace_id))
        for name, scopes in scope_sets.items():
            issued = service.issue(
                name=name, scopes=scopes, created_by=uuid.UUID(workspace.owner_user_id)
            )
            client = TestClient(app, raise_server_exceptions=False)
            client.headers["Authorization"] = f"Bearer {issued.secret}"
            clients[name] = client
    return clients


def allowed(response: Any) -> bool:
    return response.status_code not in (401, 403)


# --- authentication --------------------------------------------------------------------


def test_a_request_without_a_key_is_401(anonymous: TestClient) -> None:
    error = assert_is_error(anonymous.get("/api/v2/lead-lists"), 401)
    assert "Authorization" in error["message"]
    assert_is_error(anonymous.post("/api/v2/campaigns", json={}), 401)


def test_a_key_in_another_scheme_or_empty_is_401(anonymous: TestClient, api: TestClient) -> None:
    secret = api.headers["Authorization"].removeprefix("Bearer ")
    for header in (f"Basic {secret}", "Bearer", "Bearer ", secret):
        response = anonymous.get("/api/v2/lead-lists", headers={"Authorization": header})
        assert_is_error(response, 401)


def test_an_unknown_key_is_401(anonymous: TestClient) -> None:
    response = anonymous.get(
        "/api/v2/lead-lists", headers={"Authorization": "Bearer lr_" + "x" * 43}
    )
    assert "Invalid" in assert_is_error(response, 401)["message"]


def test_a_revoked_key_is_401_on_the_very_next_request(
    app: Any, db: Database, api: TestClient, workspace: WorkspaceClient
) -> None:
    client = key_clients(app, db, workspace, {"reader": ["all:read"]})["reader"]
    assert client.get("/api/v2/lead-lists").status_code == 200
    key_id = next(
        item["id"]
        for item in api.get("/api/v2/api-keys").json()["items"]
        if item["name"] == "reader"
    )

    assert api.delete(f"/api/v2/api-keys/{key_id}").status_code == 200

    assert_is_error(client.get("/api/v2/lead-lists"), 401)
    assert_is_error(client.get("/api/v2/workspaces/current"), 401)


def test_keys_are_stored_only_as_a_hash(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    created = api.post("/api/v2/api-keys", json={"name": "Script", "scopes": ["leads:read"]}).json()
    secrets = {workspace.api_key, created["key"]}

    with db.read_sessions() as session:
        rows = session.execute(select(ApiKey.__table__)).mappings().all()

    assert len(rows) == 2
    for row in rows:
        for column, value in row.items():
            for secret in secrets:
                assert secret not in str(value), f"api_keys.{column} holds a secret"
    hashes = {row["key_hash"] for row in rows}
    assert hashes == {hashlib.sha256(secret.encode()).hexdigest() for secret in secrets}
    assert {row["key_prefix"] for row in rows} == {secret[:10] for secret in secrets}


def revoked_client(app: Any, db: Database, workspace: WorkspaceClient) -> TestClient:
    """A client whose key (`all:all`) has been revoked."""
    with db.write_sessions.begin() as session:
        service = ApiKeyService(session, uuid.UUID(workspace.workspace_id))
        issued = service.issue(
            name="revoked", scopes=["all:all"], created_by=uuid.UUID(workspace.owner_user_id)
        )
        service.revoke(issued.key.id)
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {issued.secret}"
    return client


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_every_endpoint_rejects_a_missing_unknown_or_revoked_key(
    endpoint: Endpoint, app: Any, db: Database, workspace: WorkspaceClient, anonymous: TestClient
) -> None:
    unknown = TestClient(app, raise_server_exceptions=False)
    unknown.headers["Authorization"] = "Bearer lr_" + "x" * 43

    for client in (anonymous, unknown, revoked_client(app, db, workspace)):
        response = endpoint.call(client)
        assert_is_error(response, 401)
        assert response.headers["WWW-Authenticate"] == "Bearer"


# --- scopes --------------------------------------------------------------------------


def test_a_leads_read_key_cannot_create_lists(
    app: Any, db: Database, workspace: WorkspaceClient
) -> None:
    client = key_clients(app, db, workspace, {"leads": ["leads:read"]})["leads"]

    error = assert_is_error(client.post("/api/v2/lead-lists", json={"name": "x"}), 403)

    assert "lead_lists:create" in error["message"]
    assert client.post("/api/v2/leads/list", json={}).status_code == 200


def test_a_lead_lists_all_key_can_do_everything_on_lists_and_nothing_else(
    app: Any, db: Database, workspace: WorkspaceClient
) -> None:
    client = key_clients(app, db, workspace, {"lists": ["lead_lists:all"]})["lists"]

    created = client.post("/api/v2/lead-lists", json={"name": "Mine"})
    assert created.status_code == 200
    list_id = created.json()["id"]
    assert client.get("/api/v2/lead-lists").status_code == 200
    assert client.get(f"/api/v2/lead-lists/{list_id}").status_code == 200
    assert client.patch(f"/api/v2/lead-lists/{list_id}", json={"name": "Ours"}).status_code == 200
    assert client.delete(f"/api/v2/lead-lists/{list_id}").status_code == 200
    assert_is_error(client.get("/api/v2/campaigns"), 403)
    assert_is_error(client.post("/api/v2/leads/list", json={}), 403)


def test_an_all_read_key_reads_everything_but_writes_nothing(
    app: Any, db: Database, workspace: WorkspaceClient
) -> None:
    client = key_clients(app, db, workspace, {"reader": ["all:read"]})["reader"]

    for endpoint in ENDPOINTS:
        response = endpoint.call(client)
        if endpoint.action == "read":
            assert allowed(response), f"{endpoint.name}: {response.status_code}"
        else:
            assert response.status_code == 403, f"{endpoint.name}: {response.status_code}"


def test_an_all_all_key_may_call_every_endpoint(
    app: Any, db: Database, workspace: WorkspaceClient
) -> None:
    client = key_clients(app, db, workspace, {"admin": ["all:all"]})["admin"]

    for endpoint in ENDPOINTS:
        response = endpoint.call(client)
        assert allowed(response), f"{endpoint.name}: {response.status_code}"


def test_the_matrix_walks_every_documented_endpoint(app: Any) -> None:
    documented = {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v2/")
        for method in operations
    }
    assert {endpoint.name for endpoint in ENDPOINTS} == documented


def test_the_matrix_covers_the_bulk_and_extension_endpoints() -> None:
    """Named here so that losing one of them from the route walk fails loudly."""
    walked = {endpoint.name for endpoint in ENDPOINTS}
    assert {
        "POST /api/v2/leads/bulk-assign",
        "POST /api/v2/leads/move",
        "POST /api/v2/leads/update-interest-status",
        "POST /api/v2/lead-activities",
        "DELETE /api/v2/leads",
        "POST /api/v2/leads/list",
        "GET /api/v2/leads/{id}/assignment-history",
        "POST /api/v2/smart-views",
        "GET /api/v2/smart-views",
        "GET /api/v2/smart-views/{id}",
        "PATCH /api/v2/smart-views/{id}",
        "DELETE /api/v2/smart-views/{id}",
        "GET /api/v2/background-jobs",
        "GET /api/v2/background-jobs/{id}",
        "POST /api/v2/background-jobs/{id}/cancel",
        "POST /api/v2/background-jobs/{id}/revert",
    } <= walked


def test_every_api_endpoint_requires_exactly_one_scope() -> None:
    for route in api_routes():
        assert len(declared_scopes(route)) == 1, f"{sorted(route.methods)} {route.path}"


def test_declared_scopes_match_the_contract() -> None:
    contract = contract_scopes()
    mismatches = {
        endpoint.name: ((endpoint.resource, endpoint.action), contract[endpoint.name])
        for endpoint in ENDPOINTS
        if endpoint.name in contract
        and (endpoint.resource, endpoint.action) != contract[endpoint.name]
    }
    assert mismatches == {}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_scope_matrix(
    endpoint: Endpoint, app: Any, db: Database, workspace: WorkspaceClient
) -> None:
    """The needed scope and each widening of it pass; any other action or resource is 403."""
    resource, action = endpoint.resource, endpoint.action
    other_resource = "webhooks" if resource != "webhooks" else "leads"
    granting = {
        "exact": [f"{resource}:{action}"],
        "resource_all": [f"{resource}:all"],
        "action_on_all": [f"all:{action}"],
        "all_all": ["all:all"],
    }
    denied = {
        f"other_action_{other}": [f"{resource}:{other}"] for other in ACTIONS if other != action
    }
    denied["other_resource"] = [f"{other_resource}:{action}", f"{other_resource}:all"]
    denied["other_action_on_all"] = [f"all:{other}" for other in ACTIONS if other != action]
    clients = key_clients(app, db, workspace, {**granting, **denied})

    for name in granting:
        response = endpoint.call(clients[name])
        assert allowed(response), f"{name}: {response.status_code} {response.text}"
    for name in denied:
        assert_is_error(endpoint.call(clients[name]), 403)


def test_every_contracted_endpoint_exists() -> None:
    names = {endpoint.name for endpoint in ENDPOINTS}
    assert set(LEADROUTE_SCOPES) - names == set()
