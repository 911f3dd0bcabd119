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
    assert preview.json() == {"total": 8, "assigned_per_user": {a: 3, b: 3, c: 2}, "unchanged": 0}
    assert owners(db, lead_ids) == [None] * 9 + [b]
    assert api.get("/api/v2/background-jobs").json()["items"] == []

    accepted = assign(api, body)
    run_jobs(db, settings, job_chunk_size=3)
    data = job(api, accepted["job_id"])["data"]
    assert preview.json() == {
        "total": data["total_to_process"],
        "assigned_per_user": data["assigned_per_user"],
        "unchanged": data["unchanged_count"],
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
