"""POST /api/v2/leads/bulk-assign: validation, distribution, and the job it runs."""

import time
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadroute.assignment.kind import AssignLeadsKind
from leadroute.assignment.models import AssignmentRotation
from leadroute.db.session import Database
from leadroute.jobs.kinds import ChunkOutcome, JobRegistry
from leadroute.jobs.models import BackgroundJob
from leadroute.jobs.worker import run_until_idle
from leadroute.leads.models import Lead
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads, many_leads
from tests.jobs_support import run_jobs


def add_members(api: TestClient, count: int) -> list[str]:
    users = []
    for index in range(count):
        response = api.post(
            "/api/v2/workspace-members", json={"email": f"rep{index}@acme.test", "role": "editor"}
        )
        assert response.status_code == 200, response.text
        users.append(response.json()["user_id"])
    return users


def owners(db: Database, lead_ids: list[str]) -> list[str | None]:
    with db.read_sessions() as session:
        rows = dict(
            session.execute(
                select(Lead.id, Lead.assigned_to).where(
                    Lead.id.in_([uuid.UUID(i) for i in lead_ids])
                )
            ).all()
        )
    return [str(rows[uuid.UUID(i)]) if rows[uuid.UUID(i)] else None for i in lead_ids]


def assign(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v2/leads/bulk-assign", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def job(api: TestClient, job_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v2/background-jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_accepting_answers_202_with_job_id_and_location(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    response = api.post(
        "/api/v2/leads/bulk-assign", json={"organization_user_ids": [workspace.owner_user_id]}
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted"
    assert body["message"] == "Your request will be processed in a background job"
    assert response.headers["Location"] == f"/api/v2/background-jobs/{body['job_id']}"
    queued = job(api, body["job_id"])
    assert queued["status"] == "pending"
    assert queued["type"] == "assign-leads"
    assert queued["entity_type"] == "workspace"
    assert queued["entity_id"] == workspace.workspace_id
    assert queued["user_id"] == workspace.owner_user_id
    assert queued["progress"] == 0


def test_round_robin_gives_ten_leads_to_three_users_four_three_three_in_order(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    users = add_members(api, 3)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(10))
    accepted = assign(api, {"organization_user_ids": users})
    run_jobs(db, settings, job_chunk_size=4)

    assert owners(db, lead_ids) == [users[i % 3] for i in range(10)]
    finished = job(api, accepted["job_id"])
    assert finished["status"] == "success"
    assert finished["progress"] == 100
    data = finished["data"]
    assert data["total_to_process"] == 10
    assert data["success_count"] == 10
    assert data["unchanged_count"] == 0
    assert data["failed_count"] == 0
    assert data["assigned_per_user"] == {users[0]: 4, users[1]: 3, users[2]: 3}
    assert data["request"] == {"organization_user_ids": users}


def test_the_rotation_follows_the_order_of_user_ids_and_drops_duplicates(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b, c = add_members(api, 3)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(5))
    accepted = assign(api, {"organization_user_ids": [c, a, c, b]})
    run_jobs(db, settings)
    assert owners(db, lead_ids) == [c, a, b, c, a]
    assert job(api, accepted["job_id"])["data"]["assigned_per_user"] == {c: 2, a: 2, b: 1}


def test_limit_caps_the_leads_taking_part_and_zero_assigns_none(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b = add_members(api, 2)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(7))
    first = assign(api, {"organization_user_ids": [a, b], "limit": 3})
    none = assign(api, {"organization_user_ids": [b], "limit": 0})
    run_jobs(db, settings, job_chunk_size=2)

    assert owners(db, lead_ids) == [a, b, a, None, None, None, None]
    assert job(api, first["job_id"])["data"]["total_to_process"] == 3
    zero = job(api, none["job_id"])
    assert zero["status"] == "success"
    assert zero["progress"] == 100
    assert zero["data"]["success_count"] == 0
    assert zero["data"]["total_to_process"] == 0


def test_already_assigned_leads_count_in_the_rotation_and_are_left_alone(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b = add_members(api, 2)
    lead_ids = insert_leads(
        db, workspace.workspace_id, [{"email": "x@e.test", "assigned_to": a}, {"email": "y@e.test"}]
    )
    before = api.get(f"/api/v2/leads/{lead_ids[0]}").json()
    accepted = assign(api, {"organization_user_ids": [a, b]})
    run_jobs(db, settings)

    assert owners(db, lead_ids) == [a, b]
    data = job(api, accepted["job_id"])["data"]
    assert data["unchanged_count"] == 1
    assert data["success_count"] == 2
    assert data["assigned_per_user"] == {a: 1, b: 1}
    untouched = api.get(f"/api/v2/leads/{lead_ids[0]}").json()
    assert untouched["timestamp_updated"] == before["timestamp_updated"]


def test_only_owner_and_timestamp_change(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    (a,) = add_members(api, 1)
    (lead_id,) = insert_leads(
        db,
        workspace.workspace_id,
        [{"email": "keep@e.test", "first_name": "Ada", "status": 3, "email_open_count": 4}],
    )
    before = api.get(f"/api/v2/leads/{lead_id}").json()
    assign(api, {"organization_user_ids": [a]})
    run_jobs(db, settings)
    after = api.get(f"/api/v2/leads/{lead_id}").json()

    changed = {key for key in before if before[key] != after.get(key)}
    assert changed == {"assigned_to", "timestamp_updated"}
    assert after["assigned_to"] == a


def test_selection_fields_combine(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    (a,) = add_members(api, 1)
    list_id = api.post("/api/v2/lead-lists", json={"name": "Target"}).json()["id"]
    other_list = api.post("/api/v2/lead-lists", json={"name": "Other"}).json()["id"]
    lead_ids = insert_leads(
        db,
        workspace.workspace_id,
        [
            {"email": "ann@x.test", "first_name": "Ann", "list_id": list_id, "status": 3},
            {"email": "bob@x.test", "first_name": "Bob", "list_id": list_id, "status": 3},
            {"email": "ann2@x.test", "first_name": "Ann", "list_id": list_id, "status": 1},
            {"email": "ann3@x.test", "first_name": "Ann", "list_id": other_list, "status": 3},
        ],
    )
    assign(
        api,
        {
            "organization_user_ids": [a],
            "list_id": list_id,
            "filter": "FILTER_VAL_COMPLETED",
            "search": "ann",
        },
    )
    run_jobs(db, settings)
    assert owners(db, lead_ids) == [a, None, None, None]


def test_assigned_to_selects_the_current_owner(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b, c = add_members(api, 3)
    lead_ids = insert_leads(
        db,
        workspace.workspace_id,
        [{"assigned_to": a}, {"assigned_to": b}, {"assigned_to": a}, {}],
    )
    assign(api, {"organization_user_ids": [c], "assigned_to": a})
    run_jobs(db, settings)
    assert owners(db, lead_ids) == [c, b, c, None]


def test_leads_created_after_acceptance_are_never_touched(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    (a,) = add_members(api, 1)
    early = insert_leads(db, workspace.workspace_id, many_leads(3))
    accepted = assign(api, {"organization_user_ids": [a]})
    late = insert_leads(db, workspace.workspace_id, many_leads(2))
    run_jobs(db, settings)
    assert owners(db, early) == [a, a, a]
    assert owners(db, late) == [None, None]
    assert job(api, accepted["job_id"])["data"]["total_to_process"] == 3


def test_overlapping_jobs_run_in_acceptance_order_so_the_later_wins(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b = add_members(api, 2)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(6))
    first = assign(api, {"organization_user_ids": [a]})
    second = assign(api, {"organization_user_ids": [b], "ids": lead_ids[2:4]})
    run_jobs(db, settings, job_chunk_size=2)
    assert owners(db, lead_ids) == [a, a, b, b, a, a]
    assert job(api, first["job_id"])["status"] == "success"
    assert job(api, second["job_id"])["status"] == "success"


def test_a_patch_of_another_field_during_the_job_is_kept(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    from leadroute.job_kinds import job_registry
    from leadroute.jobs.worker import Worker

    (a,) = add_members(api, 1)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(4))
    assign(api, {"organization_user_ids": [a]})
    small_chunks = settings.model_copy(update={"job_chunk_size": 2})
    worker = Worker(db, job_registry(small_chunks), small_chunks, name="test")
    assert worker.run_once()  # first chunk: leads 0 and 1
    for lead_id in (lead_ids[1], lead_ids[3]):
        patched = api.patch(f"/api/v2/leads/{lead_id}", json={"first_name": "Edited"})
        assert patched.status_code == 200
    while worker.run_once():
        pass
    for lead_id in lead_ids:
        lead = api.get(f"/api/v2/leads/{lead_id}").json()
        assert lead["assigned_to"] == a
    assert api.get(f"/api/v2/leads/{lead_ids[1]}").json()["first_name"] == "Edited"
    assert api.get(f"/api/v2/leads/{lead_ids[3]}").json()["first_name"] == "Edited"


def test_other_workspaces_leads_are_never_selected(
    api: TestClient,
    workspace: WorkspaceClient,
    other_workspace: WorkspaceClient,
    db: Database,
    settings: Settings,
) -> None:
    (a,) = add_members(api, 1)
    theirs = insert_leads(db, other_workspace.workspace_id, many_leads(3))
    assign(api, {"organization_user_ids": [a], "ids": theirs})
    run_jobs(db, settings)
    assert owners(db, theirs) == [None, None, None]


def no_jobs(api: TestClient) -> bool:
    return api.get("/api/v2/background-jobs").json()["items"] == []


def test_invalid_target_users_are_400_naming_the_id_and_queue_nothing(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient
) -> None:
    stranger = other_workspace.owner_user_id
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "organization_user_ids"),
        ({"organization_user_ids": []}, "organization_user_ids"),
        ({"organization_user_ids": ["nope"]}, "nope"),
        ({"organization_user_ids": [workspace.owner_user_id, stranger]}, stranger),
        ({"organization_user_ids": [str(uuid.uuid4())] * 1001}, "organization_user_ids"),
    ]
    for body, named in cases:
        response = api.post("/api/v2/leads/bulk-assign", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"] == "Bad Request"
        assert named in response.json()["message"]
    invalid = api.post("/api/v2/leads/bulk-assign", json={"organization_user_ids": [stranger]})
    assert "Invalid ID on `organization_user_ids` field" in invalid.json()["message"]
    assert no_jobs(api)


def test_bad_selection_is_rejected_before_anything_is_queued(
    api: TestClient, workspace: WorkspaceClient, other_workspace: WorkspaceClient
) -> None:
    me = workspace.owner_user_id
    their_list = other_workspace.client.post("/api/v2/lead-lists", json={"name": "x"}).json()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"limit": -1}, 400, "limit"),
        ({"limit": 1.5}, 400, "limit"),
        ({"limit": "3"}, 400, "limit"),
        ({"filter": "FILTER_NOPE"}, 400, "filter"),
        ({"campaign": "not-a-uuid"}, 400, "campaign"),
        ({"campaign": str(uuid.uuid4())}, 404, "campaign"),
        ({"list_id": their_list["id"]}, 404, "list_id"),
        ({"smart_view_id": str(uuid.uuid4())}, 404, "smart_view_id"),
        ({"assigned_to": str(uuid.uuid4())}, 404, "assigned_to"),
        ({"ids": [str(uuid.uuid4())] * 10_001}, 400, "ids"),
        ({"queries": [{"actionType": "nope", "values": {}}]}, 400, "actionType"),
    ]
    for extra, status, named in cases:
        response = api.post(
            "/api/v2/leads/bulk-assign", json={"organization_user_ids": [me], **extra}
        )
        assert response.status_code == status, (extra, response.text)
        assert named in response.json()["message"], (extra, response.json())
    assert no_jobs(api)


def test_unknown_fields_and_has_clause_are_ignored(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    response = api.post(
        "/api/v2/leads/bulk-assign",
        json={
            "organization_user_ids": [workspace.owner_user_id],
            "has_clause": True,
            "something_new": 1,
        },
    )
    assert response.status_code == 202


def test_bulk_assign_needs_the_leads_update_scope(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    created = api.post("/api/v2/api-keys", json={"name": "ro", "scopes": ["leads:read"]})
    assert created.status_code == 200, created.text
    reader = TestClient(api.app, raise_server_exceptions=False)
    reader.headers["Authorization"] = f"Bearer {created.json()['key']}"
    response = reader.post(
        "/api/v2/leads/bulk-assign", json={"organization_user_ids": [workspace.owner_user_id]}
    )
    assert response.status_code == 403


def test_one_workspace_s_jobs_wait_their_turn_while_other_workspaces_run_in_parallel(
    api: TestClient,
    workspace: WorkspaceClient,
    other_workspace: WorkspaceClient,
    db: Database,
    settings: Settings,
) -> None:
    from leadroute.job_kinds import job_registry
    from leadroute.jobs.worker import Worker

    (a,) = add_members(api, 1)
    insert_leads(db, workspace.workspace_id, many_leads(6))
    insert_leads(db, other_workspace.workspace_id, many_leads(6))
    first = assign(api, {"organization_user_ids": [a]})
    second = assign(api, {"organization_user_ids": [a], "limit": 1})
    theirs = assign(
        other_workspace.client, {"organization_user_ids": [other_workspace.owner_user_id]}
    )

    small = settings.model_copy(update={"job_chunk_size": 2})
    one, two = (Worker(db, job_registry(small), small, name=n) for n in ("one", "two"))
    assert one.run_once()  # takes the first job of Acme, runs one chunk, keeps it
    assert two.run_once()  # Acme's second job must wait: it takes Globex's job instead
    assert one.lease is not None
    assert two.lease is not None
    assert str(one.lease.job_id) == first["job_id"]
    assert str(two.lease.job_id) == theirs["job_id"]
    assert job(api, second["job_id"])["status"] == "pending"
    while one.run_once() or two.run_once():
        pass
    for accepted in (first, second):
        assert job(api, accepted["job_id"])["status"] == "success"
    assert job(other_workspace.client, theirs["job_id"])["status"] == "success"


def rotation_rows(db: Database, job_id: str) -> list[tuple[int, int, str]]:
    with db.read_sessions() as session:
        rows = session.execute(
            select(AssignmentRotation.phase, AssignmentRotation.slot, AssignmentRotation.user_id)
            .where(AssignmentRotation.job_id == uuid.UUID(job_id))
            .order_by(AssignmentRotation.phase, AssignmentRotation.slot)
        ).all()
    return [(phase, slot, str(user)) for phase, slot, user in rows]


def job_state(db: Database, job_id: str) -> dict[str, Any]:
    with db.read_sessions() as session:
        found = session.get(BackgroundJob, uuid.UUID(job_id))
        assert found is not None
        return dict(found.state)


class FirstChunkFails(AssignLeadsKind):
    """Raises after its first chunk's writes, so the engine rolls them back and retries."""

    def __init__(self, chunk_size: int) -> None:
        super().__init__(chunk_size)
        self.calls = 0

    def run_chunk(self, session: Session, job: BackgroundJob) -> ChunkOutcome:
        outcome = super().run_chunk(session, job)
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the worker fails after the first chunk's writes")
        return outcome


def test_the_rotation_is_written_by_the_first_chunk_once_even_when_that_chunk_is_retried(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    users = add_members(api, 3)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(7))
    accepted = assign(api, {"organization_user_ids": users})
    # Accepting writes only the job row: the rotation waits in the job's state.
    assert rotation_rows(db, accepted["job_id"]) == []
    assert job_state(db, accepted["job_id"])["rotations"] == [users]

    registry = JobRegistry()
    kind = FirstChunkFails(chunk_size=3)
    registry.register(kind)
    fast_retry = settings.model_copy(update={"job_retry_base_seconds": 0.05})
    deadline = time.monotonic() + 15
    while job(api, accepted["job_id"])["status"] != "success":
        assert time.monotonic() < deadline, job(api, accepted["job_id"])
        run_until_idle(db, registry, fast_retry)
        time.sleep(0.02)

    assert kind.calls == 4  # the failed first chunk, then three chunks of 3, 3 and 1 leads
    assert rotation_rows(db, accepted["job_id"]) == [(0, slot, users[slot]) for slot in range(3)]
    assert "rotations" not in job_state(db, accepted["job_id"])
    assert owners(db, lead_ids) == [users[i % 3] for i in range(7)]
    assert job(api, accepted["job_id"])["data"]["assigned_per_user"] == {
        users[0]: 3,
        users[1]: 2,
        users[2]: 2,
    }


def test_a_job_queued_with_its_rotation_already_written_runs_the_same(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    """A job accepted by a version that wrote the rotation at acceptance, still pending."""
    users = add_members(api, 3)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(5))
    accepted = assign(api, {"organization_user_ids": users})
    with db.write_sessions.begin() as session:
        queued = session.get(BackgroundJob, uuid.UUID(accepted["job_id"]))
        assert queued is not None
        state = dict(queued.state)
        for phase, rotation in enumerate(state.pop("rotations")):
            for slot, user in enumerate(rotation):
                session.add(
                    AssignmentRotation(
                        job_id=queued.id, phase=phase, slot=slot, user_id=uuid.UUID(user)
                    )
                )
        queued.state = state
    run_jobs(db, settings, job_chunk_size=2)
    assert owners(db, lead_ids) == [users[i % 3] for i in range(5)]
    assert job(api, accepted["job_id"])["status"] == "success"
