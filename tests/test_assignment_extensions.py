"""bulk-assign beyond Instantly: preview, strategies, revert, assignment history."""

from typing import Any

from fastapi.testclient import TestClient

from leadroute.db.session import Database
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.factories import insert_leads, many_leads
from tests.jobs_support import run_jobs
from tests.test_bulk_assign import add_members, assign, job, owners


def test_dry_run_previews_the_job_s_counts_and_writes_nothing(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b, c = add_members(api, 3)
    lead_ids = insert_leads(
        db, workspace.workspace_id, [*many_leads(9), {"email": "z@e.test", "assigned_to": b}]
    )
    body: dict[str, Any] = {"organization_user_ids": [a, b, c], "limit": 8}
    preview = api.post("/api/v2/leads/bulk-assign", json={**body, "dry_run": True})
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "total": 8,
        "assigned_per_user": {a: 3, b: 3, c: 2},
        "unchanged": 0,
        "over_capacity": 0,
    }
    assert owners(db, lead_ids) == [None] * 9 + [b]
    assert api.get("/api/v2/background-jobs").json()["items"] == []

    accepted = assign(api, body)
    run_jobs(db, settings, job_chunk_size=3)
    data = job(api, accepted["job_id"])["data"]
    assert preview.json() == {
        "total": data["total_to_process"],
        "assigned_per_user": data["assigned_per_user"],
        "unchanged": data["unchanged_count"],
        "over_capacity": 0,
    }


def test_weighted_shares_are_proportional_and_interleaved(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b = add_members(api, 2)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(8))
    accepted = assign(
        api, {"organization_user_ids": [a, b], "strategy": "weighted", "weights": [3, 1]}
    )
    run_jobs(db, settings, job_chunk_size=3)
    assert owners(db, lead_ids) == [a, a, b, a, a, a, b, a]
    assert job(api, accepted["job_id"])["data"]["assigned_per_user"] == {a: 6, b: 2}


def test_weights_must_match_the_users(api: TestClient, workspace: WorkspaceClient) -> None:
    a, b = add_members(api, 2)
    for extra in (
        {"strategy": "weighted"},
        {"strategy": "weighted", "weights": [1]},
        {"strategy": "weighted", "weights": [1, 0]},
        {"weights": [1, 2]},
    ):
        response = api.post(
            "/api/v2/leads/bulk-assign", json={"organization_user_ids": [a, b], **extra}
        )
        assert response.status_code == 400, extra
        assert "weights" in response.json()["message"]


def test_only_unassigned_leaves_owned_leads_out(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b = add_members(api, 2)
    lead_ids = insert_leads(
        db, workspace.workspace_id, [{"assigned_to": a}, {}, {"assigned_to": a}, {}]
    )
    accepted = assign(api, {"organization_user_ids": [b], "only_unassigned": True})
    run_jobs(db, settings)
    assert owners(db, lead_ids) == [a, b, a, b]
    assert job(api, accepted["job_id"])["data"]["total_to_process"] == 2


def test_revert_restores_previous_owners_and_counts_conflicts(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b, c = add_members(api, 3)
    lead_ids = insert_leads(
        db, workspace.workspace_id, [{"assigned_to": a}, {}, {"assigned_to": a}, {}, {}]
    )
    accepted = assign(api, {"organization_user_ids": [b]})
    run_jobs(db, settings, job_chunk_size=2)
    assert owners(db, lead_ids) == [b] * 5
    patched = api.patch(f"/api/v2/leads/{lead_ids[3]}", json={"assigned_to": c})
    assert patched.status_code == 200

    revert = api.post(f"/api/v2/background-jobs/{accepted['job_id']}/revert")
    assert revert.status_code == 202, revert.text
    assert revert.headers["Location"] == f"/api/v2/background-jobs/{revert.json()['job_id']}"
    run_jobs(db, settings)

    assert owners(db, lead_ids) == [a, None, a, c, None]
    reverted = job(api, revert.json()["job_id"])
    assert reverted["type"] == "revert-assign-leads"
    assert reverted["status"] == "success"
    assert reverted["data"]["reverted_count"] == 4
    assert reverted["data"]["conflict_count"] == 1


def test_a_running_job_cannot_be_reverted_and_other_kinds_never(
    api: TestClient, workspace: WorkspaceClient, db: Database
) -> None:
    (a,) = add_members(api, 1)
    insert_leads(db, workspace.workspace_id, many_leads(2))
    pending = assign(api, {"organization_user_ids": [a]})
    response = api.post(f"/api/v2/background-jobs/{pending['job_id']}/revert")
    assert response.status_code == 409
    interest = api.post(
        "/api/v2/leads/update-interest-status",
        json={"lead_email": "lead0@example.test", "interest_value": 1},
    )
    assert interest.status_code == 202
    response = api.post(f"/api/v2/background-jobs/{interest.json()['job_id']}/revert")
    assert response.status_code == 400
    unknown = api.post("/api/v2/background-jobs/01900000-0000-7000-8000-000000000000/revert")
    assert unknown.status_code == 404


def test_assignment_history_lists_every_change_oldest_first(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b = add_members(api, 2)
    list_id = api.post("/api/v2/lead-lists", json={"name": "L"}).json()["id"]
    added = api.post(
        "/api/v2/leads/add",
        json={"list_id": list_id, "leads": [{"email": "h@e.test", "assigned_to": a}]},
    )
    lead_id = added.json()["created_leads"][0]["id"]
    first = assign(api, {"organization_user_ids": [b]})
    run_jobs(db, settings)
    api.patch(f"/api/v2/leads/{lead_id}", json={"assigned_to": a})
    api.patch(f"/api/v2/leads/{lead_id}", json={"first_name": "not an owner change"})
    revert = api.post(f"/api/v2/background-jobs/{first['job_id']}/revert").json()
    run_jobs(db, settings)

    history = api.get(f"/api/v2/leads/{lead_id}/assignment-history")
    assert history.status_code == 200
    items = history.json()["items"]
    assert [(i["previous"], i["assigned_to"], i["job_id"]) for i in items] == [
        (None, a, None),
        (a, b, first["job_id"]),
        (b, a, None),
    ]
    assert all(item["timestamp"].endswith("Z") for item in items)
    # The revert found the lead changed since (PATCH back to a): a conflict, not a change.
    assert job(api, revert["job_id"])["data"]["conflict_count"] == 1


def test_history_of_another_workspace_s_lead_is_404(
    api: TestClient, db: Database, other_workspace: WorkspaceClient
) -> None:
    (theirs,) = insert_leads(db, other_workspace.workspace_id, many_leads(1))
    assert api.get(f"/api/v2/leads/{theirs}/assignment-history").status_code == 404


def owned_counts(db: Database, workspace_id: str) -> dict[str, int]:
    import uuid as uuid_module

    from sqlalchemy import func, select

    from leadroute.leads.models import Lead

    with db.read_sessions() as session:
        rows = session.execute(
            select(Lead.assigned_to, func.count())
            .where(
                Lead.workspace_id == uuid_module.UUID(workspace_id), Lead.assigned_to.is_not(None)
            )
            .group_by(Lead.assigned_to)
        ).all()
    return {str(owner): count for owner, count in rows}


def test_max_per_user_caps_each_user_and_leaves_the_rest_unchanged(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b, c = add_members(api, 3)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(10))
    accepted = assign(api, {"organization_user_ids": [a, b, c], "max_per_user": 2})
    run_jobs(db, settings, job_chunk_size=4)
    assert owners(db, lead_ids) == [a, b, c, a, b, c, None, None, None, None]
    data = job(api, accepted["job_id"])["data"]
    assert data["assigned_per_user"] == {a: 2, b: 2, c: 2}
    assert data["success_count"] == 6
    assert data["over_capacity_count"] == 4
    assert data["total_to_process"] == 10


def test_weighted_with_capacity_goes_on_with_the_users_who_have_room(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b = add_members(api, 2)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(10))
    body = {
        "organization_user_ids": [a, b],
        "strategy": "weighted",
        "weights": [3, 1],
        "max_per_user": 4,
    }
    preview = api.post("/api/v2/leads/bulk-assign", json={**body, "dry_run": True}).json()
    accepted = assign(api, body)
    run_jobs(db, settings, job_chunk_size=3)
    assert owners(db, lead_ids) == [a, a, b, a, a, b, b, b, None, None]
    data = job(api, accepted["job_id"])["data"]
    assert data["assigned_per_user"] == {a: 4, b: 4}
    assert data["over_capacity_count"] == 2
    assert preview == {
        "total": 10,
        "assigned_per_user": {a: 4, b: 4},
        "unchanged": 0,
        "over_capacity": 2,
    }


def test_balanced_gives_more_to_who_owns_fewer_until_counts_are_level(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b, c = add_members(api, 3)
    insert_leads(db, workspace.workspace_id, many_leads(5, assigned_to=a))
    insert_leads(db, workspace.workspace_id, many_leads(2, assigned_to=c))
    fresh = insert_leads(db, workspace.workspace_id, many_leads(10))
    accepted = assign(
        api,
        {"organization_user_ids": [a, b, c], "strategy": "balanced", "only_unassigned": True},
    )
    run_jobs(db, settings, job_chunk_size=3)
    assert owners(db, fresh) == [b, b, b, c, b, c, b, c, a, b]
    assert owned_counts(db, workspace.workspace_id) == {a: 6, b: 6, c: 5}
    assert job(api, accepted["job_id"])["data"]["assigned_per_user"] == {a: 1, b: 6, c: 3}


def test_balanced_counts_leads_taking_part_as_not_yet_owned(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    a, b = add_members(api, 2)
    list_id = api.post("/api/v2/lead-lists", json={"name": "Pool"}).json()["id"]
    # a owns 6 leads, 4 of them in the pool being reassigned; b owns none.
    insert_leads(db, workspace.workspace_id, many_leads(2, assigned_to=a))
    insert_leads(db, workspace.workspace_id, many_leads(4, assigned_to=a, list_id=list_id))
    insert_leads(db, workspace.workspace_id, many_leads(4, list_id=list_id))
    body = {"organization_user_ids": [a, b], "strategy": "balanced", "list_id": list_id}
    preview = api.post("/api/v2/leads/bulk-assign", json={**body, "dry_run": True}).json()
    assign(api, body)
    run_jobs(db, settings, job_chunk_size=3)
    assert owned_counts(db, workspace.workspace_id) == {a: 5, b: 5}
    assert preview["assigned_per_user"] == {a: 3, b: 5}


def test_cancel_stops_a_running_assignment_at_its_next_chunk_and_keeps_what_was_applied(
    api: TestClient, workspace: WorkspaceClient, db: Database, settings: Settings
) -> None:
    from leadroute.job_kinds import job_registry
    from leadroute.jobs.worker import Worker

    (a,) = add_members(api, 1)
    lead_ids = insert_leads(db, workspace.workspace_id, many_leads(6))
    running = assign(api, {"organization_user_ids": [a]})
    waiting = assign(api, {"organization_user_ids": [a]})
    small = settings.model_copy(update={"job_chunk_size": 2})
    worker = Worker(db, job_registry(small), small, name="test")
    assert worker.run_once()  # the first chunk: leads 0 and 1

    cancelled = api.post(f"/api/v2/background-jobs/{running['job_id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "in-progress"  # asked to stop at its next chunk
    never = api.post(f"/api/v2/background-jobs/{waiting['job_id']}/cancel")
    assert never.json()["status"] == "cancelled"  # pending: cancelled at once, never starts
    while worker.run_once():
        pass

    stopped = job(api, running["job_id"])
    assert stopped["status"] == "cancelled"
    assert stopped["data"]["success_count"] == 2
    assert stopped["data"]["assigned_per_user"] == {a: 2}
    assert owners(db, lead_ids) == [a, a, None, None, None, None]
    assert job(api, waiting["job_id"])["data"]["success_count"] == 0
    again = api.post(f"/api/v2/background-jobs/{running['job_id']}/cancel")
    assert again.status_code == 409
