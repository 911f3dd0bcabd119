"""`leadroute assign` and `leadroute jobs ...` against a real server with embedded workers."""

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from leadroute.db.session import Database
from leadroute.leads.models import Lead
from leadroute.settings import Settings
from tests.cli_support import LiveServer, add_member, live_server, run_cli
from tests.conftest import WorkspaceClient


@pytest.fixture
def server(db: Database, settings: Settings) -> Iterator[LiveServer]:
    yield from live_server(db, settings)


@pytest.fixture
def idle_server(db: Database, settings: Settings) -> Iterator[LiveServer]:
    """No workers: an accepted job stays pending."""
    yield from live_server(db, settings, workers=0)


def add_list(workspace: WorkspaceClient, name: str, leads: list[dict[str, object]]) -> str:
    response = workspace.client.post("/api/v2/lead-lists", json={"name": name})
    assert response.status_code == 200, response.text
    list_id = str(response.json()["id"])
    response = workspace.client.post("/api/v2/leads/add", json={"list_id": list_id, "leads": leads})
    assert response.status_code == 200, response.text
    assert response.json()["leads_uploaded"] == len(leads)
    return list_id


def owners_by_email(db: Database, workspace_id: str) -> dict[str, str | None]:
    with db.read_sessions() as session:
        rows = session.execute(
            select(Lead.email, Lead.assigned_to)
            .where(Lead.workspace_id == uuid.UUID(workspace_id))
            .order_by(Lead.id)
        ).all()
    return {str(email): str(owner) if owner else None for email, owner in rows}


def jobs_of(workspace: WorkspaceClient) -> list[dict[str, object]]:
    response = workspace.client.get("/api/v2/background-jobs", params={"limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


@pytest.fixture
def team(workspace: WorkspaceClient) -> dict[str, str]:
    return {
        email: add_member(workspace.client, email) for email in ("ana@acme.test", "bo@acme.test")
    }


def test_assign_to_two_emails_over_a_list_alternates_owners_and_follows_the_job(
    server: LiveServer, workspace: WorkspaceClient, db: Database, team: dict[str, str]
) -> None:
    add_list(workspace, "Conf", [{"email": f"c{i}@x.test"} for i in range(7)])
    add_list(workspace, "Other", [{"email": "o@x.test"}])

    result = run_cli(
        server,
        workspace.api_key,
        "assign",
        "--to",
        "ana@acme.test,BO@acme.test",
        "--list",
        "Conf",
        "--json",
    )

    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["type"] == "assign-leads"
    assert job["status"] == "success"
    assert job["assigned_per_user_by_email"] == {"ana@acme.test": 4, "bo@acme.test": 3}
    assert re.search(r"ana@acme\.test\s+4", result.stderr)
    ana, bo = team["ana@acme.test"], team["bo@acme.test"]
    owners = owners_by_email(db, workspace.workspace_id)
    assert [owners[f"c{i}@x.test"] for i in range(7)] == [ana, bo, ana, bo, ana, bo, ana]
    assert owners["o@x.test"] is None


def test_dry_run_prints_the_counts_per_member_and_changes_nothing(
    server: LiveServer, workspace: WorkspaceClient, db: Database, team: dict[str, str]
) -> None:
    add_list(workspace, "Conf", [{"email": f"c{i}@x.test"} for i in range(8)])

    result = run_cli(
        server,
        workspace.api_key,
        "assign",
        "--to",
        "ana@acme.test",
        "--to",
        "bo@acme.test",
        "--list",
        "Conf",
        "--strategy",
        "weighted",
        "--weights",
        "3,1",
        "--dry-run",
    )

    assert result.exit_code == 0, result.output
    assert "Dry run: 8 leads would take part" in result.stderr
    assert re.search(r"ana@acme\.test\s+6\b", result.stderr)
    assert re.search(r"bo@acme\.test\s+2\b", result.stderr)
    assert "Nothing was changed." in result.stderr
    assert set(owners_by_email(db, workspace.workspace_id).values()) == {None}
    assert jobs_of(workspace) == []


def test_dry_run_json_names_members_by_email(
    server: LiveServer, workspace: WorkspaceClient, team: dict[str, str]
) -> None:
    add_list(
        workspace, "Conf", [{"email": "smith@x.test", "last_name": "Smith"}, {"email": "j@x.test"}]
    )

    result = run_cli(
        server,
        workspace.api_key,
        "assign",
        "--to",
        "bo@acme.test",
        "--search",
        "smith",
        "--dry-run",
        "--json",
    )

    assert result.exit_code == 0, result.output
    preview = json.loads(result.stdout)
    assert preview["total"] == 1
    assert preview["assigned_per_user_by_email"] == {"bo@acme.test": 1}


def test_assign_to_an_unknown_email_fails_naming_it_and_queues_nothing(
    server: LiveServer, workspace: WorkspaceClient, team: dict[str, str]
) -> None:
    result = run_cli(
        server, workspace.api_key, "assign", "--to", "ana@acme.test,zed@acme.test", "--all"
    )

    assert result.exit_code == 1
    assert "--to: no member of this workspace has the email zed@acme.test" in result.stderr
    assert jobs_of(workspace) == []


def test_assign_without_a_selection_asks_for_all(
    server: LiveServer, workspace: WorkspaceClient, db: Database, team: dict[str, str]
) -> None:
    add_list(workspace, "Conf", [{"email": "a@x.test"}, {"email": "b@x.test"}])

    refused = run_cli(server, workspace.api_key, "assign", "--to", "bo@acme.test")
    everything = run_cli(server, workspace.api_key, "assign", "--to", "bo@acme.test", "--all")

    assert refused.exit_code == 1
    assert "or --all for every lead of the workspace" in refused.stderr
    assert everything.exit_code == 0, everything.output
    assert set(owners_by_email(db, workspace.workspace_id).values()) == {team["bo@acme.test"]}


def test_no_wait_answers_the_job_id_and_jobs_watch_follows_it(
    server: LiveServer, workspace: WorkspaceClient, db: Database, team: dict[str, str]
) -> None:
    add_list(workspace, "Conf", [{"email": f"c{i}@x.test"} for i in range(250)])

    queued = run_cli(
        server, workspace.api_key, "assign", "--to", "ana@acme.test", "--list", "Conf",
        "--no-wait", "--json",
    )  # fmt: skip
    assert queued.exit_code == 0, queued.output
    job_id = json.loads(queued.stdout)["job_id"]
    watched = run_cli(server, workspace.api_key, "jobs", "watch", job_id, "--json")

    assert watched.exit_code == 0, watched.output
    job = json.loads(watched.stdout)
    assert (job["id"], job["status"], job["progress"]) == (job_id, "success", 100)
    assert job["data"]["success_count"] == 250
    assert set(owners_by_email(db, workspace.workspace_id).values()) == {team["ana@acme.test"]}


def test_jobs_list_shows_the_newest_first(
    server: LiveServer, workspace: WorkspaceClient, team: dict[str, str]
) -> None:
    add_list(workspace, "Conf", [{"email": "a@x.test"}])
    ids = []
    for email in ("ana@acme.test", "bo@acme.test"):
        result = run_cli(server, workspace.api_key, "assign", "--to", email, "--all", "--json")
        assert result.exit_code == 0, result.output
        ids.append(json.loads(result.stdout)["id"])

    listed = run_cli(server, workspace.api_key, "jobs", "list", "--json")
    table = run_cli(server, workspace.api_key, "jobs", "list", "--type", "assign-leads")

    assert listed.exit_code == 0, listed.output
    assert [(job["id"], job["status"]) for job in json.loads(listed.stdout)] == [
        (ids[1], "success"),
        (ids[0], "success"),
    ]
    assert table.exit_code == 0, table.output
    lines = [line for line in table.stdout.splitlines() if "assign-leads" in line]
    assert [line.split()[0] for line in lines] == [ids[1], ids[0]]


def test_jobs_cancel_stops_a_pending_job_and_a_second_cancel_fails(
    idle_server: LiveServer, workspace: WorkspaceClient, db: Database, team: dict[str, str]
) -> None:
    add_list(workspace, "Conf", [{"email": "a@x.test"}])
    queued = run_cli(
        idle_server, workspace.api_key, "assign", "--to", "ana@acme.test", "--all",
        "--no-wait", "--json",
    )  # fmt: skip
    job_id = json.loads(queued.stdout)["job_id"]

    cancelled = run_cli(idle_server, workspace.api_key, "jobs", "cancel", job_id, "--json")
    again = run_cli(idle_server, workspace.api_key, "jobs", "cancel", job_id)
    watched = run_cli(idle_server, workspace.api_key, "jobs", "watch", job_id)

    assert cancelled.exit_code == 0, cancelled.output
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
    assert again.exit_code == 1
    assert f"job {job_id} cannot be cancelled" in again.stderr
    assert watched.exit_code == 1
    assert "cancelled" in watched.stderr
    assert owners_by_email(db, workspace.workspace_id) == {"a@x.test": None}


def test_jobs_revert_gives_back_the_previous_owners(
    server: LiveServer, workspace: WorkspaceClient, db: Database, team: dict[str, str]
) -> None:
    ana, bo = team["ana@acme.test"], team["bo@acme.test"]
    add_list(
        workspace,
        "Conf",
        [{"email": "a@x.test", "assigned_to": ana}, {"email": "b@x.test"}, {"email": "c@x.test"}],
    )
    assigned = run_cli(
        server, workspace.api_key, "assign", "--to", "bo@acme.test", "--list", "Conf", "--json"
    )
    job_id = json.loads(assigned.stdout)["id"]
    assert set(owners_by_email(db, workspace.workspace_id).values()) == {bo}

    reverted = run_cli(server, workspace.api_key, "jobs", "revert", job_id, "--json")

    assert reverted.exit_code == 0, reverted.output
    job = json.loads(reverted.stdout)
    assert (job["type"], job["status"]) == ("revert-assign-leads", "success")
    assert job["data"]["reverted_count"] == 3
    assert owners_by_email(db, workspace.workspace_id) == {
        "a@x.test": ana,
        "b@x.test": None,
        "c@x.test": None,
    }


def test_a_missing_api_key_is_an_error(server: LiveServer) -> None:
    result = run_cli(server, "", "jobs", "list")

    assert result.exit_code == 1
    assert "give an API key with --api-key or LEADROUTE_API_KEY" in result.stderr


def test_an_unreachable_server_is_reported(workspace: WorkspaceClient) -> None:
    unreachable = LiveServer(url="http://127.0.0.1:9", settings=Settings())

    result = run_cli(unreachable, workspace.api_key, "jobs", "list")

    assert result.exit_code == 1
    assert "cannot reach leadroute at http://127.0.0.1:9" in result.stderr
