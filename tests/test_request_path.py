"""The request path's own guarantees: one unit of work per request, committed and answered
in the thread that did the work, and the API key cache (revocation, expiry)."""

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import fastapi.routing
import pytest
from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import event, select, update

from leadroute.api_keys.models import ApiKey
from leadroute.api_keys.service import ApiKeyService
from leadroute.app import create_app
from leadroute.auth.caller import Caller
from leadroute.auth.key_cache import ApiKeyCache
from leadroute.db.session import Database, SessionDep
from leadroute.errors import BadRequest
from leadroute.lead_lists.models import LeadList
from leadroute.routing import UnitOfWorkRoute, api_router
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.test_auth import api_routes
from tests.wire import assert_is_error

# --- one unit of work per request ------------------------------------------------------


def test_every_api_route_commits_its_unit_of_work_in_its_own_thread() -> None:
    routes = api_routes()
    assert len(routes) > 50
    assert [route.path for route in routes if not isinstance(route, UnitOfWorkRoute)] == []


@pytest.fixture
def database_threads(db: Database) -> Iterator[dict[str, set[int]]]:
    """The threads that ran statements and commits on the engine during the test."""
    seen: dict[str, set[int]] = {"statements": set(), "commits": set()}

    def on_statement(*_args: Any) -> None:
        seen["statements"].add(threading.get_ident())

    def on_commit(*_args: Any) -> None:
        seen["commits"].add(threading.get_ident())

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    yield seen
    event.remove(db.engine, "before_cursor_execute", on_statement)
    event.remove(db.engine, "commit", on_commit)


def test_a_write_request_commits_in_the_thread_that_ran_its_statements(
    api: TestClient, db: Database, database_threads: dict[str, set[int]]
) -> None:
    """On SQLite the write lock is held from the first statement to the commit: a commit
    in another thread would hold it across a trip through the event loop."""
    created = api.post("/api/v2/lead-lists", json={"name": "Committed here"})

    assert created.status_code == 200, created.text
    assert len(database_threads["statements"]) == 1
    assert database_threads["commits"] == database_threads["statements"]
    with db.read_sessions() as session:
        assert session.scalar(select(LeadList.name)) == "Committed here"


def test_an_endpoint_that_raises_after_writing_leaves_nothing_behind(
    app: Any, api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    router = api_router(prefix="/test-only")

    @router.post("/write-then-fail")
    def write_then_fail(session: SessionDep) -> None:
        session.add(LeadList(workspace_id=uuid.UUID(workspace.workspace_id), name="Half done"))
        session.flush()
        raise BadRequest("failed after writing")

    app.include_router(router)

    assert_is_error(api.post("/test-only/write-then-fail"), 400)
    with db.read_sessions() as session:
        assert session.scalar(select(LeadList.id)) is None


# --- routing ---------------------------------------------------------------------------


class Thing(BaseModel):
    name: str
    size: int | None = None
    note: str | None = Field(default=None, exclude_if=lambda note: note is None)


def add_thing_endpoints(router: APIRouter) -> None:
    """The ways a sync endpoint shapes its response, for FastAPI's route and ours alike."""

    def tagged(response: Response) -> str:
        response.headers["X-From-Dependency"] = "yes"
        return "tag"

    @router.get("/model", response_model=Thing)
    def model() -> Thing:
        return Thing(name="plain")

    @router.post("/created", status_code=201, response_model=Thing)
    def created(response: Response, tag: Annotated[str, Depends(tagged)]) -> Thing:
        response.headers["Location"] = "/things/1"
        return Thing(name=tag, note="kept")

    @router.get("/status-from-response", status_code=202, response_model=Thing)
    def status_from_response(response: Response) -> Thing:
        response.status_code = 200
        return Thing(name="overridden")

    @router.get("/header-from-dependency", response_model=Thing)
    def header_from_dependency(tag: Annotated[str, Depends(tagged)]) -> Thing:
        return Thing(name=tag)

    @router.get("/dict", response_model=list[Thing], response_model_exclude_none=True)
    def from_dicts() -> list[dict[str, Any]]:
        return [{"name": "a", "size": None}, {"name": "b", "size": 2, "ignored": True}]

    @router.get("/no-model")
    def no_model() -> dict[str, int]:
        return {"answer": 42}

    @router.delete("/empty", status_code=204)
    def empty() -> None:
        return None


def thing_client(router: APIRouter) -> TestClient:
    add_thing_endpoints(router)
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/things/model"),
        ("POST", "/things/created"),
        ("GET", "/things/status-from-response"),
        ("GET", "/things/header-from-dependency"),
        ("GET", "/things/dict"),
        ("GET", "/things/no-model"),
        ("DELETE", "/things/empty"),
    ],
)
def test_a_response_written_in_the_endpoint_s_thread_is_the_one_fastapi_writes(
    method: str, path: str
) -> None:
    ours = thing_client(api_router(prefix="/things")).request(method, path)
    fastapi_s = thing_client(APIRouter(prefix="/things")).request(method, path)

    assert (ours.status_code, ours.content) == (fastapi_s.status_code, fastapi_s.content)
    assert {k: v for k, v in ours.headers.items() if k != "date"} == {
        k: v for k, v in fastapi_s.headers.items() if k != "date"
    }


def test_a_sync_endpoint_takes_one_trip_through_the_thread_pool(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI validates a sync endpoint's return value in a second trip: ours does not."""
    assert api.get("/api/v2/workspaces/current").status_code == 200  # the key is now cached
    trips: list[str] = []
    real = fastapi.routing.run_in_threadpool

    async def counted(call: Any, /, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(call, "__name__", repr(call)))
        return await real(call, *args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "run_in_threadpool", counted)

    current = api.get("/api/v2/workspaces/current")

    assert current.status_code == 200
    assert current.json()["name"] == "Acme"
    assert len(trips) == 1


def test_a_response_that_does_not_fit_its_model_is_a_500_in_the_error_envelope(
    app: Any, workspace: WorkspaceClient
) -> None:
    router = api_router(prefix="/test-only")

    @router.get("/misfit", response_model=Thing)
    def misfit() -> Any:
        return {"size": "not a number"}

    app.include_router(router)

    assert_is_error(TestClient(app, raise_server_exceptions=False).get("/test-only/misfit"), 500)


def test_a_router_declines_a_path_outside_its_prefix_without_trying_its_routes() -> None:
    router = api_router(prefix="/api/v2/things")

    @router.get("/{id}")
    def get_thing(id: str) -> dict[str, str]:
        return {"id": id}

    tried: list[str] = []
    route = router.routes[0]
    original = route.matches

    def counting_matches(scope: Any) -> Any:
        tried.append(scope["path"])
        return original(scope)

    route.matches = counting_matches  # type: ignore[method-assign]
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)

    assert client.get("/api/v2/others/1").status_code == 404
    assert tried == []
    assert client.get("/api/v2/things/1").json() == {"id": "1"}
    assert set(tried) == {"/api/v2/things/1"}
    assert client.post("/api/v2/things/1").status_code == 405
    # Behind a proxy's root path, the prefix is matched against the route's own path.
    behind_proxy = TestClient(app, root_path="/leadroute")
    assert behind_proxy.get("/leadroute/api/v2/things/2").json() == {"id": "2"}


def test_every_api_route_is_reached_through_its_router_s_prefix(api: TestClient) -> None:
    """A sample from each router: the prefix check never hides a route."""
    for path in (
        "/api/v2/workspaces/current",
        "/api/v2/workspace-members",
        "/api/v2/api-keys",
        "/api/v2/campaigns",
        "/api/v2/lead-labels",
        "/api/v2/lead-lists",
        "/api/v2/smart-views",
        "/api/v2/background-jobs",
        "/api/v2/webhooks",
    ):
        assert api.get(path).status_code == 200, path
    assert api.post("/api/v2/leads/list", json={}).status_code == 200
    assert api.post("/api/v2/leads/bulk-assign", json={}).status_code == 400
    assert_is_error(api.put("/api/v2/leads/bulk-assign", json={}), 405)


# --- the API key cache -----------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def revoke_behind_the_apis_back(db: Database, workspace: WorkspaceClient) -> None:
    """What another API process (or an operator in the database) revoking the key does."""
    with db.write_sessions.begin() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.workspace_id == uuid.UUID(workspace.workspace_id))
            .values(revoked_at=datetime.now(UTC))
        )


def test_a_key_revoked_elsewhere_stops_working_once_its_cache_entry_expires(
    app: Any, db: Database, workspace: WorkspaceClient
) -> None:
    clock = FakeClock()
    app.state.api_keys = ApiKeyCache(2.0, clock=clock)
    api = workspace.client
    assert api.get("/api/v2/workspaces/current").status_code == 200

    revoke_behind_the_apis_back(db, workspace)
    clock.now += 1.9
    assert api.get("/api/v2/workspaces/current").status_code == 200
    clock.now += 0.2

    assert_is_error(api.get("/api/v2/workspaces/current"), 401)


def test_with_the_cache_off_a_key_revoked_elsewhere_is_refused_at_once(
    db: Database, settings: Settings, workspace: WorkspaceClient
) -> None:
    app = create_app(settings.model_copy(update={"api_key_cache_seconds": 0}), database=db)
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    assert client.get("/api/v2/workspaces/current").status_code == 200

    revoke_behind_the_apis_back(db, workspace)

    assert_is_error(client.get("/api/v2/workspaces/current"), 401)


def test_a_cached_key_is_not_looked_up_again(api: TestClient, db: Database) -> None:
    assert api.get("/api/v2/lead-lists").status_code == 200  # looks the key up, caches it
    statements: list[str] = []

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_statement)
    try:
        for _ in range(3):
            assert api.get("/api/v2/lead-lists").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)

    assert [sql for sql in statements if "FROM api_keys" in sql] == []
    assert len([sql for sql in statements if "FROM lead_lists" in sql]) == 3


def test_a_key_created_through_the_api_works_at_once_and_revoking_it_is_immediate(
    api: TestClient,
) -> None:
    created = api.post("/api/v2/api-keys", json={"name": "Script", "scopes": ["all:all"]})
    script = TestClient(api.app, raise_server_exceptions=False)
    script.headers["Authorization"] = f"Bearer {created.json()['key']}"
    assert script.get("/api/v2/lead-lists").status_code == 200  # now cached

    assert api.delete(f"/api/v2/api-keys/{created.json()['id']}").status_code == 200

    assert_is_error(script.get("/api/v2/lead-lists"), 401)


def test_the_cache_holds_at_most_max_entries_dropping_the_oldest() -> None:
    clock = FakeClock()
    cache = ApiKeyCache(60.0, max_entries=2, clock=clock)
    callers = [
        Caller(api_key_id=uuid.uuid4(), workspace_id=uuid.uuid4(), user_id=None, scopes=frozenset())
        for _ in range(3)
    ]
    for index, caller in enumerate(callers):
        cache.put(f"digest-{index}", caller)

    assert cache.get("digest-0") is None
    assert cache.get("digest-1") == callers[1]
    assert cache.get("digest-2") == callers[2]
    cache.forget(callers[1].api_key_id)
    assert cache.get("digest-1") is None


def test_revoking_through_the_service_needs_the_api_to_forget_the_key(
    app: Any, db: Database, workspace: WorkspaceClient
) -> None:
    """The API's DELETE is what forgets a cached key; the service alone only writes the row
    (as another process would), so the key lives on in this process until its entry expires."""
    clock = FakeClock()
    app.state.api_keys = ApiKeyCache(2.0, clock=clock)
    api = workspace.client
    assert api.get("/api/v2/workspaces/current").status_code == 200
    with db.write_sessions.begin() as session:
        service = ApiKeyService(session, uuid.UUID(workspace.workspace_id))
        key_id = session.scalar(select(ApiKey.id))
        assert key_id is not None
        service.revoke(key_id)

    assert api.get("/api/v2/workspaces/current").status_code == 200
    clock.now += 2.0
    assert_is_error(api.get("/api/v2/workspaces/current"), 401)
