"""`leadroute leads import` and `leadroute leads export` against a real server."""

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from leadroute.campaigns.models import Campaign
from leadroute.cli_ops.common import EXIT_BAD_ROWS
from leadroute.cli_ops.csv_import import PreparedLead, problems_by_index, send_batch
from leadroute.client import Client
from leadroute.db.session import Database
from leadroute.leads.models import Lead
from leadroute.settings import Settings
from tests.cli_support import LiveServer, add_member, leads_of_list, live_server, run_cli
from tests.conftest import WorkspaceClient


@pytest.fixture
def server(db: Database, settings: Settings) -> Iterator[LiveServer]:
    yield from live_server(db, settings)


def write(tmp_path: Path, text: str, name: str = "leads.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_maps_headers_to_fields_and_other_columns_to_custom_variables(
    server: LiveServer, workspace: WorkspaceClient, db: Database, tmp_path: Path
) -> None:
    file = write(
        tmp_path,
        "E-mail,First Name,Last Name,Company,Job Title,Phone,Website,Industry,Lead Score\n"
        "ana@acme.test,Ana,Lopez,Acme,CTO,+1 555 0100,acme.test,SaaS,42\n"
        "bo@globex.test,Bo,Chen,Globex,,,,Retail,\n",
    )

    result = run_cli(server, workspace.api_key, "leads", "import", file, "--list", "Expo")

    assert result.exit_code == 0, result.output
    assert "Imported 2 of 2 rows" in result.stderr
    assert "custom variables: Industry, Lead Score" in result.stderr
    ana, bo = leads_of_list(db, workspace.workspace_id, "Expo")
    assert (ana.email, ana.first_name, ana.last_name, ana.company_name) == (
        "ana@acme.test",
        "Ana",
        "Lopez",
        "Acme",
    )
    assert (ana.job_title, ana.phone, ana.website) == ("CTO", "+1 555 0100", "acme.test")
    assert ana.payload == {"Industry": "SaaS", "Lead Score": "42"}
    # An empty cell is "not given": no empty custom variable, no empty field.
    assert bo.payload == {"Industry": "Retail"}
    assert bo.job_title is None


def test_import_reports_bad_rows_by_line_and_reason_and_imports_the_rest(
    server: LiveServer, workspace: WorkspaceClient, db: Database, tmp_path: Path
) -> None:
    long_name = "x" * 256
    file = write(
        tmp_path,
        "email,first_name,last_name,owner,interest_status\n"
        "good1@acme.test,Good,One,,\n"  # line 2
        "not-an-email,Bad,Email,,\n"  # line 3
        ",,,,\n"  # line 4: blank, skipped
        ",,,,1\n"  # line 5: no identity
        f"long@acme.test,{long_name},X,,\n"  # line 6
        "owner@acme.test,O,W,nobody@acme.test,\n"  # line 7
        "status@acme.test,S,T,,seven\n"  # line 8
        '"good2@acme.test","Two,\nLines",Good,,1\n'  # lines 9-10
        "extra@acme.test,E,X,,,surplus\n",  # line 11
    )

    result = run_cli(
        server, workspace.api_key, "leads", "import", file, "--list", "Mixed", "--json"
    )

    assert result.exit_code == EXIT_BAD_ROWS, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 8
    assert report["imported"] == 2
    assert report["bad_rows"] == [
        {"line": 3, "reason": "`email`: 'not-an-email' is not a valid email address"},
        {"line": 5, "reason": "give at least one of `email`, `first_name`, `last_name`"},
        {"line": 6, "reason": "`first_name`: String should have at most 255 characters"},
        {
            "line": 7,
            "reason": "`assigned_to`: 'nobody@acme.test' is not the email of a member "
            "of this workspace",
        },
        {"line": 8, "reason": "`lt_interest_status`: 'seven' is not a whole number"},
        {"line": 11, "reason": "has 6 values but the header has 5 columns"},
    ]
    assert "line 3: `email`: 'not-an-email' is not a valid email address" in result.stderr
    assert "line 11: has 6 values" in result.stderr
    leads = leads_of_list(db, workspace.workspace_id, "Mixed")
    assert [(lead.email, lead.first_name) for lead in leads] == [
        ("good1@acme.test", "Good"),
        ("good2@acme.test", "Two,\nLines"),
    ]
    assert leads[1].lt_interest_status == 1


def test_import_twice_skips_the_duplicates(
    server: LiveServer, workspace: WorkspaceClient, db: Database, tmp_path: Path
) -> None:
    rows = "".join(f"lead{i}@acme.test,Lead,{i}\n" for i in range(2500))
    file = write(tmp_path, "email,first_name,last_name\n" + rows + "LEAD7@acme.test,Again,7\n")

    first = run_cli(server, workspace.api_key, "leads", "import", file, "--list", "Twice")
    second = run_cli(
        server, workspace.api_key, "leads", "import", file, "--list", "Twice", "--json"
    )

    assert first.exit_code == 0, first.output
    assert "Imported 2,500 of 2,501 rows" in first.stderr
    assert "1 repeated in the file" in first.stderr
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    assert report["list"]["created"] is False
    assert report["imported"] == 0
    assert report["already_present"] == 2500
    assert report["duplicates_in_file"] == [
        {"line": 2502, "first_line": 9, "email": "LEAD7@acme.test"}
    ]
    assert len(leads_of_list(db, workspace.workspace_id, "Twice")) == 2500


def test_import_names_owners_by_email_and_creates_a_missing_campaign(
    server: LiveServer, workspace: WorkspaceClient, db: Database, tmp_path: Path
) -> None:
    ana = add_member(workspace.client, "ana@acme.test")
    bo = add_member(workspace.client, "bo@acme.test")
    file = write(
        tmp_path, "email,owner\none@x.test,ANA@acme.test\ntwo@x.test,\nthree@x.test,bo@acme.test\n"
    )

    result = run_cli(
        server,
        workspace.api_key,
        "leads",
        "import",
        file,
        "--campaign",
        "Spring push",
        "--assigned-to",
        "bo@acme.test",
    )

    assert result.exit_code == 0, result.output
    assert "into campaign 'Spring push' (created)" in result.stderr
    with db.read_sessions() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.name == "Spring push")).one()
        leads = session.scalars(
            select(Lead).where(Lead.campaign == campaign.id).order_by(Lead.id)
        ).all()
        owners = [(lead.email, str(lead.assigned_to)) for lead in leads]
    assert owners == [("one@x.test", ana), ("two@x.test", bo), ("three@x.test", bo)]


def test_import_ignores_read_only_columns_so_an_export_imports_back(
    server: LiveServer, workspace: WorkspaceClient, db: Database, tmp_path: Path
) -> None:
    ana = add_member(workspace.client, "ana@acme.test")
    source = write(tmp_path, "email,first_name,owner,city\nx@acme.test,X,ana@acme.test,Lisbon\n")
    assert (
        run_cli(server, workspace.api_key, "leads", "import", source, "--list", "A").exit_code == 0
    )
    exported = run_cli(server, workspace.api_key, "leads", "export", "--list", "A")
    copy = write(tmp_path, exported.stdout, "copy.csv")

    result = run_cli(server, workspace.api_key, "leads", "import", copy, "--list", "B")

    assert result.exit_code == 0, result.output
    assert "ignored columns: id, status" in result.stderr
    (lead,) = leads_of_list(db, workspace.workspace_id, "B")
    assert (lead.email, lead.first_name, str(lead.assigned_to)) == ("x@acme.test", "X", ana)
    assert lead.payload == {"city": "Lisbon"}


def test_export_writes_a_header_and_exactly_the_selected_leads(
    server: LiveServer, workspace: WorkspaceClient, tmp_path: Path
) -> None:
    rows = "".join(
        f"p{i}@acme.test,Pat,{'Smith' if i % 3 == 0 else 'Jones'},{i}\n" for i in range(250)
    )
    file = write(tmp_path, "email,first_name,last_name,rank\n" + rows)
    assert (
        run_cli(server, workspace.api_key, "leads", "import", file, "--list", "L1").exit_code == 0
    )
    other = write(tmp_path, "email,last_name\nsmith@else.test,Smith\n", "other.csv")
    assert (
        run_cli(server, workspace.api_key, "leads", "import", other, "--list", "L2").exit_code == 0
    )

    result = run_cli(
        server,
        workspace.api_key,
        "leads",
        "export",
        "--list",
        "L1",
        "--search",
        "smith",
        "--columns",
        "email,last_name,rank",
    )

    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == ["email", "last_name", "rank"]
    assert table[1:] == [[f"p{i}@acme.test", "Smith", str(i)] for i in range(0, 250, 3)]
    assert "Exported 84 leads" in result.stderr


def test_export_default_columns_and_limit(
    server: LiveServer, workspace: WorkspaceClient, tmp_path: Path
) -> None:
    ana = add_member(workspace.client, "ana@acme.test")
    response = workspace.client.post("/api/v2/lead-lists", json={"name": "Few"})
    list_id = response.json()["id"]
    response = workspace.client.post(
        "/api/v2/leads/add",
        json={
            "list_id": list_id,
            "leads": [
                {"email": f"f{i}@acme.test", "assigned_to": ana, "custom_variables": {"k": i}}
                for i in range(5)
            ],
        },
    )
    assert response.status_code == 200, response.text

    result = run_cli(server, workspace.api_key, "leads", "export", "--list", "Few", "--limit", "3")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["email"] for row in rows] == ["f0@acme.test", "f1@acme.test", "f2@acme.test"]
    assert {row["assigned_to"] for row in rows} == {"ana@acme.test"}
    assert [json.loads(row["custom_variables"]) for row in rows] == [{"k": 0}, {"k": 1}, {"k": 2}]
    assert rows[0]["status"] == "1"


def test_export_of_an_unknown_list_fails_naming_it(
    server: LiveServer, workspace: WorkspaceClient
) -> None:
    result = run_cli(server, workspace.api_key, "leads", "export", "--list", "Nope")

    assert result.exit_code == 1
    assert "no lead list named 'Nope' in this workspace" in result.stderr


def test_a_bad_api_key_is_reported_with_the_servers_message(
    server: LiveServer, workspace: WorkspaceClient, tmp_path: Path
) -> None:
    file = write(tmp_path, "email\na@acme.test\n")

    result = run_cli(server, "lr_not_a_key", "leads", "import", file, "--list", "X")

    assert result.exit_code == 1
    assert "401 Unauthorized" in result.stderr


# --- a batch the server refuses --------------------------------------------------------------


def test_problems_by_index_reads_the_items_a_400_names() -> None:
    message = (
        "`leads.3.first_name`: String should have at most 255 characters; "
        "`leads.0.assigned_to`: x is not a user of this workspace; `list_id`: bad"
    )

    assert problems_by_index(message, 5) == {
        3: "`first_name`: String should have at most 255 characters",
        0: "`assigned_to`: x is not a user of this workspace",
    }


def test_a_row_the_server_refuses_costs_only_that_row() -> None:
    """The server answers 400 naming an item: it is set aside and the rest sent again."""
    sent: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        leads = json.loads(request.content)["leads"]
        sent.append([lead["email"] for lead in leads])
        emails = [lead["email"] for lead in leads]
        if "refused@acme.test" in emails:
            index = emails.index("refused@acme.test")
            message = f"`leads.{index}.lt_interest_status`: 7 is not a lead label's"
            return httpx.Response(
                400, json={"statusCode": 400, "error": "Bad Request", "message": message}
            )
        created = [{"index": i, "id": f"id{i}"} for i in range(len(leads))]
        return httpx.Response(200, json={"leads_uploaded": len(leads), "created_leads": created})

    batch = [
        PreparedLead(line, {"email": email})
        for line, email in ((2, "a@acme.test"), (3, "refused@acme.test"), (4, "b@acme.test"))
    ]
    with Client(
        "http://leadroute.invalid", "key", transport=httpx.MockTransport(handler)
    ) as client:
        result = send_batch(client, batch, {"list_id": "l"}, {})

    assert sent == [
        ["a@acme.test", "refused@acme.test", "b@acme.test"],
        ["a@acme.test", "b@acme.test"],
    ]
    assert [(row.line, row.reason) for row in result.bad_rows] == [
        (3, "`lt_interest_status`: 7 is not a lead label's")
    ]
    assert sum(summary.leads_uploaded for summary in result.summaries) == 2


def test_a_400_naming_no_item_is_narrowed_down_by_halving() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        emails = [lead["email"] for lead in json.loads(request.content)["leads"]]
        if "poison@acme.test" in emails:
            return httpx.Response(
                400, json={"statusCode": 400, "error": "Bad Request", "message": "no"}
            )
        return httpx.Response(200, json={"leads_uploaded": len(emails), "created_leads": []})

    batch = [PreparedLead(line, {"email": f"l{line}@acme.test"}) for line in range(2, 10)]
    batch[5] = PreparedLead(7, {"email": "poison@acme.test"})
    with Client(
        "http://leadroute.invalid", "key", transport=httpx.MockTransport(handler)
    ) as client:
        result = send_batch(client, batch, {"list_id": "l"}, {})

    assert [(row.line, row.reason) for row in result.bad_rows] == [(7, "no")]
    assert sum(summary.leads_uploaded for summary in result.summaries) == 7


def test_the_client_waits_out_a_rate_limit() -> None:
    answers = iter(
        [
            httpx.Response(
                429,
                headers={"Retry-After": "2"},
                json={"statusCode": 429, "error": "Too Many Requests", "message": "slow down"},
            ),
            httpx.Response(200, json={"id": "w", "name": "Acme"}),
        ]
    )
    slept: list[float] = []
    with Client(
        "http://leadroute.invalid/api/v2/",
        "key",
        transport=httpx.MockTransport(lambda _request: next(answers)),
        sleep=slept.append,
    ) as client:
        assert client.current_workspace() == {"id": "w", "name": "Acme"}
    assert slept == [2.0]


def test_import_reads_stdin_and_guesses_a_semicolon_separator(
    server: LiveServer, workspace: WorkspaceClient, db: Database
) -> None:
    text = "email;first_name;notes\nana@acme.test;Ana;met at booth, liked it\n"

    result = run_cli(
        server, workspace.api_key, "leads", "import", "-", "--list", "Piped", input=text
    )

    assert result.exit_code == 0, result.output
    (lead,) = leads_of_list(db, workspace.workspace_id, "Piped")
    assert (lead.email, lead.first_name) == ("ana@acme.test", "Ana")
    assert lead.payload == {"notes": "met at booth, liked it"}


def test_two_columns_for_one_field_stop_the_import_before_anything_is_sent(
    server: LiveServer, workspace: WorkspaceClient, tmp_path: Path
) -> None:
    file = write(tmp_path, "Email,E-mail\na@acme.test,b@acme.test\n")

    result = run_cli(server, workspace.api_key, "leads", "import", file, "--list", "Never")

    assert result.exit_code == 1
    assert "columns 'Email' and 'E-mail' both give the lead field `email`" in result.stderr
    assert workspace.client.get("/api/v2/lead-lists").json()["items"] == []
