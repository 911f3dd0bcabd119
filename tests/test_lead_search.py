"""The search table (migration 0003): kept by triggers from every way a lead is written,
and never written by an assignment, which is why it is a table of its own."""

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from leadroute.db.engine import create_db_engine
from leadroute.db.migrate import upgrade_database
from leadroute.db.session import Database
from leadroute.leads.models import lead_search
from leadroute.settings import Settings
from leadroute.workspaces.models import Workspace
from tests.conftest import WorkspaceClient, fresh_database_settings
from tests.factories import insert_leads
from tests.jobs_support import run_jobs
from tests.test_bulk_assign import add_members, assign, owners

SEP = "\x1f"


def search_texts(db: Database) -> dict[str, str]:
    with db.read_sessions() as session:
        rows = session.execute(select(lead_search.c.lead_id, lead_search.c.search_text)).all()
    return {str(lead_id): search_text for lead_id, search_text in rows}


def searched(api: TestClient, term: str) -> list[str]:
    response = api.post("/api/v2/leads/list", json={"search": term, "limit": 100})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_lead_written_through_the_api_or_in_bulk_gets_its_search_text(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    created = api.post(
        "/api/v2/leads", json={"email": "Ann@Acme.TEST", "first_name": "Ann", "last_name": "Lee"}
    )
    assert created.status_code == 200, created.text
    list_id = api.post("/api/v2/lead-lists", json={"name": "Imported"}).json()["id"]
    added = api.post(
        "/api/v2/leads/add",
        json={
            "list_id": list_id,
            "leads": [{"email": "bo@globex.test"}, {"email": "cy@initech.test"}],
        },
    )
    assert added.status_code == 200, added.text
    bulk = insert_leads(db, workspace.workspace_id, [{"first_name": "Dee", "email": None}])

    texts = search_texts(db)
    assert texts[created.json()["id"]] == f"ann lee{SEP}ann@acme.test"
    assert sorted(texts.values()) == sorted(
        [
            f"ann lee{SEP}ann@acme.test",
            f" {SEP}bo@globex.test",
            f" {SEP}cy@initech.test",
            f"dee {SEP}",
        ]
    )
    assert searched(api, "DEE") == bulk


def test_changing_a_name_or_email_changes_what_search_finds(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    lead_id = api.post(
        "/api/v2/leads", json={"email": "ann@acme.test", "first_name": "Ann"}
    ).json()["id"]
    patched = api.patch(
        f"/api/v2/leads/{lead_id}", json={"first_name": "Zoe", "last_name": "Quinn"}
    )
    assert patched.status_code == 200, patched.text
    assert search_texts(db) == {lead_id: f"zoe quinn{SEP}ann@acme.test"}
    assert searched(api, "zoe qu") == [lead_id]
    assert searched(api, "ann ") == []
    # A change of other fields leaves the search text as it is.
    assert api.patch(f"/api/v2/leads/{lead_id}", json={"company_name": "Acme"}).status_code == 200
    assert search_texts(db) == {lead_id: f"zoe quinn{SEP}ann@acme.test"}


def test_a_deleted_lead_leaves_no_search_text(
    api: TestClient, db: Database, workspace: WorkspaceClient
) -> None:
    kept, deleted = insert_leads(
        db, workspace.workspace_id, [{"email": "kept@x.test"}, {"email": "gone@x.test"}]
    )
    assert api.delete(f"/api/v2/leads/{deleted}").status_code == 200
    assert list(search_texts(db)) == [kept]


@pytest.mark.engine("postgresql")
def test_an_assignment_never_rewrites_the_search_table_on_postgresql(
    api: TestClient, db: Database, workspace: WorkspaceClient, settings: Settings
) -> None:
    """The point of the table: PostgreSQL gives an updated row new entries in every index of
    its table, so an owner change on ``leads`` must not touch the trigram-indexed rows."""
    users = add_members(api, 2)
    lead_ids = insert_leads(
        db, workspace.workspace_id, [{"email": f"l{i}@x.test"} for i in range(6)]
    )

    def row_versions() -> dict[str, Any]:
        with db.read_sessions() as session:
            rows = session.execute(text("SELECT lead_id, xmin::text FROM lead_search")).all()
        return {str(lead_id): version for lead_id, version in rows}

    before = row_versions()
    assign(api, {"organization_user_ids": users})
    run_jobs(db, settings)
    assert owners(db, lead_ids) == [users[i % 2] for i in range(6)]
    assert row_versions() == before


def test_upgrading_an_existing_database_fills_the_search_table(
    backend: str, tmp_path: Path
) -> None:
    database = Database(create_db_engine(fresh_database_settings(backend, tmp_path)))
    try:
        upgrade_database(database.engine, "0002")
        workspace_id = uuid.uuid4()
        with database.engine.begin() as connection:
            connection.execute(insert(Workspace), {"id": workspace_id, "name": "old"})
        ids = insert_leads(database, workspace_id, [{"first_name": "Old", "email": "old@x.test"}])
        upgrade_database(database.engine)
        assert search_texts(database) == {ids[0]: f"old {SEP}old@x.test"}
    finally:
        database.dispose()
