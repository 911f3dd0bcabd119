"""`/api/v2/background-jobs`: the wire format, filters, sorts and keyset pages, data_fields,
cancel, scopes, and tenant isolation."""

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from leadroute.api_keys.service import ApiKeyService
from leadroute.db.session import Database
from leadroute.ids import utcnow
from leadroute.jobs.kinds import JobRegistry
from leadroute.jobs.models import BackgroundJob
from leadroute.jobs.service import enqueue_job
from leadroute.jobs.worker import Worker
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.counting_job import COUNTING, CountingJob
from tests.wire import WIRE_TIMESTAMP, assert_is_error, assert_matches_response

JOBS = "/api/v2/background-jobs"


def add_job(
    db: Database,
    workspace: WorkspaceClient,
    *,
    type: str = "assign-leads",
    entity_type: str = "workspace",
    entity_id: str | None = None,
    data: dict[str, Any] | None = None,
    status: str | None = None,
    **columns: Any,
) -> str:
    with db.write_sessions.begin() as session:
        job = enqueue_job(
            session,
            workspace_id=uuid.UUID(workspace.workspace_id),
            user_id=uuid.UUID(workspace.owner_user_id),
            type=type,
            entity_type=entity_type,
            entity_id=entity_id,
            data=data or {},
            state={"target": 3, "secret": "cursor"},
        )
        if status or columns:
            session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == job.id)
                .values(**({"status": status} if status else {}), **columns)
            )
        return str(job.id)


def ids_of(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


def client_with_scopes(
    app: Any, db: Database, workspace: WorkspaceClient, scopes: list[str]
) -> TestClient:
    with db.write_sessions.begin() as session:
        issued = ApiKeyService(session, uuid.UUID(workspace.workspace_id)).issue(
            name="limited", scopes=scopes, created_by=uuid.UUID(workspace.owner_user_id)
        )
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {issued.secret}"
    return client


def test_a_job_has_exactly_instantlys_fields(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    list_id = str(uuid.uuid4())
    job_id = add_job(
        db,
        workspace,
        type="move-leads",
        entity_type="list",
        entity_id=list_id,
        data={"moved_lead_emails": ["ada@example.test"], "total": 1},
    )
    response = api.get(f"{JOBS}/{job_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches_response(body, "GET", "/api/v2/background-jobs/{id}")
    assert set(body) == {
        "id",
        "workspace_id",
        "user_id",
        "type",
        "entity_id",
        "entity_type",
        "data",
        "progress",
        "status",
        "created_at",
        "updated_at",
    }
    assert body == {
        "id": job_id,
        "workspace_id": workspace.workspace_id,
        "user_id": workspace.owner_user_id,
        "type": "move-leads",
        "entity_id": list_id,
        "entity_type": "list",
        "data": {"moved_lead_emails": ["ada@example.test"], "total": 1},
        "progress": 0,
        "status": "pending",
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert WIRE_TIMESTAMP.match(body["created_at"])
    listed = api.get(JOBS).json()
    assert_matches_response(listed, "GET", "/api/v2/background-jobs")
    assert listed == {"items": [body]}


def test_data_fields_keeps_only_the_named_keys_of_data(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    job_id = add_job(db, workspace, data={"success_count": 4, "failed_count": 0, "request": {}})
    narrowed = api.get(f"{JOBS}/{job_id}", params={"data_fields": "success_count, request,nope"})
    assert narrowed.json()["data"] == {"success_count": 4, "request": {}}
    assert api.get(f"{JOBS}/{job_id}", params={"data_fields": ""}).json()["data"] == {
        "success_count": 4,
        "failed_count": 0,
        "request": {},
    }


def test_another_workspaces_job_is_404_and_never_listed(
    api: TestClient, db: Database, workspace: WorkspaceClient, other_workspace: WorkspaceClient
) -> None:
    job_id = add_job(db, workspace)
    intruder = other_workspace.client
    assert_is_error(intruder.get(f"{JOBS}/{job_id}"), 404)
    assert_is_error(intruder.post(f"{JOBS}/{job_id}/cancel"), 404)
    assert intruder.get(JOBS).json() == {"items": []}
    assert intruder.get(JOBS, params={"ids": job_id}).json() == {"items": []}
    assert_is_error(api.get(f"{JOBS}/{uuid.uuid4()}"), 404)
    assert "id" in assert_is_error(api.get(f"{JOBS}/not-a-uuid"), 400)["message"]
    assert api.get(f"{JOBS}/{job_id}").status_code == 200


def test_list_filters_by_type_entity_status_and_ids(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    list_id = str(uuid.uuid4())
    assign = add_job(db, workspace, entity_id=workspace.workspace_id)
    move = add_job(db, workspace, type="move-leads", entity_type="list", entity_id=list_id)
    done = add_job(db, workspace, status="success", entity_id=workspace.workspace_id)
    failed = add_job(db, workspace, type="update-interest-status", status="failed")

    def listed(**params: Any) -> list[str]:
        response = api.get(JOBS, params=params)
        assert response.status_code == 200, response.text
        return ids_of(response.json())

    assert listed() == [assign, move, done, failed]
    assert listed(type="assign-leads") == [assign, done]
    assert listed(type="move-leads") == [move]
    assert listed(type="import-leads") == []
    assert listed(entity_type="list") == [move]
    assert listed(entity_id=workspace.workspace_id) == [assign, done]
    assert listed(status="pending") == [assign, move]
    assert listed(status="success,failed") == [done, failed]
    assert listed(status="in-progress") == []
    assert listed(ids=f"{failed},{assign}") == [assign, failed]
    assert listed(ids=f"{failed},{assign}", included_ids=assign) == [assign]
    assert listed(excluded_ids=f"{move},{done}") == [assign, failed]
    assert listed(type="assign-leads", status="success") == [done]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "assign"}, "type"),
        ({"entity_type": "lead"}, "entity_type"),
        ({"status": "pending,done"}, "status"),
        ({"ids": "nope"}, "ids"),
        ({"excluded_ids": f"{uuid.uuid4()},x"}, "excluded_ids"),
        ({"sort_column": "id"}, "sort_column"),
        ({"sort_order": "up"}, "sort_order"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"starting_after": "x"}, "starting_after"),
    ],
)
def test_invalid_list_parameters_are_400_naming_the_parameter(
    api: TestClient, params: dict[str, Any], field: str
) -> None:
    assert f"`{field}`" in assert_is_error(api.get(JOBS, params=params), 400)["message"]


def test_list_pages_by_id_ten_at_a_time_by_default(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    job_ids = [add_job(db, workspace) for _ in range(12)]
    first = api.get(JOBS).json()
    assert ids_of(first) == job_ids[:10]
    assert first["next_starting_after"] == job_ids[9]
    second = api.get(JOBS, params={"starting_after": first["next_starting_after"]}).json()
    assert second == {"items": second["items"]}
    assert ids_of(second) == job_ids[10:]
    newest_first = api.get(JOBS, params={"sort_order": "desc", "limit": 5}).json()
    assert ids_of(newest_first) == job_ids[::-1][:5]
    after = api.get(
        JOBS, params={"sort_order": "desc", "starting_after": newest_first["next_starting_after"]}
    ).json()
    assert ids_of(after) == job_ids[::-1][5:]


@pytest.mark.parametrize("sort_column", ["created_at", "updated_at"])
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
def test_keyset_pages_follow_the_sort_through_equal_timestamps(
    api: TestClient, db: Database, workspace: WorkspaceClient, sort_column: str, sort_order: str
) -> None:
    base = utcnow().replace(microsecond=0)
    # Timestamps out of id order, with ties that only the id can break.
    offsets = [3, 1, 3, 0, 1, 3, 2]
    rows: list[tuple[datetime, str]] = []
    for offset in offsets:
        at = base + timedelta(seconds=offset)
        rows.append((at, add_job(db, workspace, **{sort_column: at})))
    expected = [job_id for _, job_id in sorted(rows, reverse=sort_order == "desc")]

    seen: list[str] = []
    params: dict[str, Any] = {"sort_column": sort_column, "sort_order": sort_order, "limit": 2}
    while True:
        page = api.get(JOBS, params=params).json()
        seen += ids_of(page)
        if "next_starting_after" not in page:
            break
        params["starting_after"] = page["next_starting_after"]
    assert seen == expected


def test_a_timestamp_sorted_page_cannot_start_after_an_unknown_job(
    api: TestClient, db: Database, workspace: WorkspaceClient, other_workspace: WorkspaceClient
) -> None:
    theirs = add_job(db, other_workspace)
    response = api.get(JOBS, params={"sort_column": "updated_at", "starting_after": theirs})
    assert "`starting_after`" in assert_is_error(response, 400)["message"]


def test_cancel_stops_a_pending_job_and_asks_a_running_one_and_409s_a_finished_one(
    app: Any, api: TestClient, db: Database, workspace: WorkspaceClient, settings: Settings
) -> None:
    kind = CountingJob()
    registry = JobRegistry()
    registry.register(kind)
    heard: list[tuple[str, str]] = []
    registry.add_finish_listener(lambda _s, job: heard.append((str(job.id), job.status)))
    app.state.job_registry = registry
    running = add_job(db, workspace, type=COUNTING)
    waiting = add_job(db, workspace, type=COUNTING)
    worker = Worker(db, registry, settings, name="w1")
    assert worker.run_once()

    cancelled = api.post(f"{JOBS}/{waiting}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert heard == [(waiting, "cancelled")]

    asked = api.post(f"{JOBS}/{running}/cancel")
    assert asked.status_code == 200
    assert (asked.json()["status"], asked.json()["data"]["counted"]) == ("in-progress", 1)
    assert worker.run_once()
    stopped = api.get(f"{JOBS}/{running}").json()
    assert (stopped["status"], stopped["data"]["counted"], stopped["progress"]) == (
        "cancelled",
        1,
        33,
    )
    assert heard == [(waiting, "cancelled"), (running, "cancelled")]
    assert not worker.run_once()
    assert kind.chunks_run == 1

    done = add_job(db, workspace, status="success")
    for job_id in (waiting, running, done):
        assert "finished" in assert_is_error(api.post(f"{JOBS}/{job_id}/cancel"), 409)["message"]


def test_cancel_needs_the_update_scope_and_reading_the_read_scope(
    app: Any, api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    job_id = add_job(db, workspace)
    reader = client_with_scopes(app, db, workspace, ["background-jobs:read"])
    assert reader.get(f"{JOBS}/{job_id}").status_code == 200
    assert reader.get(JOBS).status_code == 200
    assert (
        "background-jobs:update"
        in assert_is_error(reader.post(f"{JOBS}/{job_id}/cancel"), 403)["message"]
    )
    updater = client_with_scopes(app, db, workspace, ["background-jobs:update"])
    assert_is_error(updater.get(f"{JOBS}/{job_id}"), 403)
    assert updater.post(f"{JOBS}/{job_id}/cancel").json()["status"] == "cancelled"
    leads_only = client_with_scopes(app, db, workspace, ["leads:all"])
    assert_is_error(leads_only.get(JOBS), 403)


def test_the_private_state_is_never_shown(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    job_id = add_job(db, workspace)
    assert "cursor" not in api.get(f"{JOBS}/{job_id}").text
    assert "cursor" not in api.get(JOBS).text
