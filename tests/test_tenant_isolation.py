"""Tenant isolation: a key of workspace B never reads, finds, selects or changes anything of
workspace A, on every endpoint.

The sweeps are data-driven over the app's routes: every route with an ``{id}`` is called by
B with the id of A's resource of that kind (404, exactly as for an id that does not exist,
and nothing in the database moves), and every list is read by B (none of A's ids anywhere in
the answer). A new route fails here until it is given A's resource (``ID_OF``) and a valid
body (``BODIES``), so no endpoint goes unchecked. The bulk endpoints (bulk-assign, move,
bulk delete, interest status, activities, imports) are then driven by B with A's ids, lists,
campaigns and users, and A's rows are compared before and after, jobs run to the end.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, select

from leadroute.db.session import Database
from leadroute.jobs.models import BackgroundJob
from leadroute.leads.models import Lead
from leadroute.models import Base
from leadroute.settings import Settings
from tests.conftest import WorkspaceClient
from tests.jobs_support import run_jobs
from tests.test_auth import api_routes
from tests.test_campaigns import SCHEDULE
from tests.wire import assert_is_error

# Both workspaces hold a lead with this address: anything that finds leads by email must
# find only the caller's.
SHARED_EMAIL = "shared@example.test"
# Both workspaces have a lead label with this interest status, with opposite sentiments.
SHARED_INTEREST_STATUS = 4242
# Tables that belong to no workspace: a user may be a member of several workspaces.
SHARED_TABLES = frozenset({"users"})


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Tenant:
    """A workspace with one resource of every kind, built through the API."""

    workspace: WorkspaceClient
    member_id: str
    member_user_id: str
    campaign_id: str
    list_id: str
    label_id: str
    smart_view_id: str
    list_lead_ids: list[str]
    campaign_lead_ids: list[str]
    spare_key_id: str
    finished_job_id: str
    pending_job_id: str | None = None
    webhook_id: str | None = None
    extra_ids: set[str] = field(default_factory=set)

    @property
    def client(self) -> TestClient:
        return self.workspace.client

    @property
    def lead_ids(self) -> list[str]:
        return self.list_lead_ids + self.campaign_lead_ids

    def ids(self) -> set[str]:
        """Every id of the workspace's resources and users, to look for in B's answers."""
        ids = {
            self.workspace.workspace_id,
            self.workspace.owner_user_id,
            self.member_id,
            self.member_user_id,
            self.campaign_id,
            self.list_id,
            self.label_id,
            self.smart_view_id,
            self.spare_key_id,
            self.finished_job_id,
            *self.lead_ids,
            *self.extra_ids,
        }
        ids.update(value for value in (self.pending_job_id, self.webhook_id) if value)
        return ids


def registered_paths() -> set[str]:
    return {route.path for route in api_routes()}


def build_tenant(
    workspace: WorkspaceClient,
    db: Database,
    settings: Settings,
    *,
    tag: str,
    sentiment: str,
    with_pending_job: bool,
) -> Tenant:
    api = workspace.client
    member = ok(
        api.post("/api/v2/workspace-members", json={"email": f"rep@{tag}.test", "role": "editor"})
    )
    campaign = ok(
        api.post(
            "/api/v2/campaigns", json={"name": f"{tag} outbound", "campaign_schedule": SCHEDULE}
        )
    )
    lead_list = ok(api.post("/api/v2/lead-lists", json={"name": f"{tag} list"}))
    label = ok(
        api.post(
            "/api/v2/lead-labels",
            json={
                "label": f"{tag} label",
                "interest_status_label": sentiment,
                "interest_status": SHARED_INTEREST_STATUS,
            },
        )
    )
    view = ok(
        api.post("/api/v2/smart-views", json={"name": f"{tag} view", "list_id": lead_list["id"]})
    )
    in_list = ok(
        api.post(
            "/api/v2/leads/add",
            json={
                "list_id": lead_list["id"],
                "leads": [
                    {"email": SHARED_EMAIL, "first_name": tag},
                    {"email": f"one@{tag}.test", "first_name": tag},
                    {
                        "email": f"two@{tag}.test",
                        "first_name": tag,
                        "lt_interest_status": SHARED_INTEREST_STATUS,
                    },
                ],
            },
        )
    )
    in_campaign = ok(
        api.post(
            "/api/v2/leads/add",
            json={
                "campaign_id": campaign["id"],
                "leads": [{"email": f"three@{tag}.test", "first_name": tag}],
            },
        )
    )
    spare_key = ok(api.post("/api/v2/api-keys", json={"name": "spare", "scopes": ["leads:read"]}))
    finished = ok(
        api.post(
            "/api/v2/leads/bulk-assign",
            json={"organization_user_ids": [member["user_id"]], "list_id": lead_list["id"]},
        ),
        202,
    )
    run_jobs(db, settings)
    assert ok(api.get(f"/api/v2/background-jobs/{finished['job_id']}"))["status"] == "success"
    tenant = Tenant(
        workspace=workspace,
        member_id=member["id"],
        member_user_id=member["user_id"],
        campaign_id=campaign["id"],
        list_id=lead_list["id"],
        label_id=label["id"],
        smart_view_id=view["id"],
        list_lead_ids=[lead["id"] for lead in in_list["created_leads"]],
        campaign_lead_ids=[lead["id"] for lead in in_campaign["created_leads"]],
        spare_key_id=spare_key["id"],
        finished_job_id=finished["job_id"],
    )
    # Created after the jobs ran, so no delivery of it is pending while a test runs jobs.
    if "/api/v2/webhooks" in registered_paths():
        webhook = ok(
            api.post(
                "/api/v2/webhooks",
                json={"target_url": "http://127.0.0.1:9/hook", "event_types": ["leads.assigned"]},
            )
        )
        tenant.webhook_id = webhook["id"]
    if with_pending_job:
        pending = ok(
            api.post(
                "/api/v2/leads/bulk-assign",
                json={
                    "organization_user_ids": [workspace.owner_user_id],
                    "campaign": campaign["id"],
                },
            ),
            202,
        )
        tenant.pending_job_id = pending["job_id"]
    return tenant


def tenant_rows(db: Database, workspace_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the workspace, table by table, in primary key order.

    A table must say how it belongs to a workspace (a ``workspace_id``, a ``job_id`` of a
    workspace's job, a queue's ``last_job_id``, or a ``lead_id`` of a workspace's lead); a
    new table that does none of these fails here until it is placed.
    """
    workspace = uuid.UUID(workspace_id)
    jobs = select(BackgroundJob.id).where(BackgroundJob.workspace_id == workspace)
    leads = select(Lead.id).where(Lead.workspace_id == workspace)
    snapshot: dict[str, list[dict[str, Any]]] = {}
    with db.read_sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in SHARED_TABLES:
                continue
            statement = select(table).order_by(*table.primary_key.columns)
            if "workspace_id" in table.c:
                statement = statement.where(table.c.workspace_id == workspace)
            elif table.name == "workspaces":
                statement = statement.where(table.c.id == workspace)
            elif "job_id" in table.c:
                statement = statement.where(table.c.job_id.in_(jobs))
            elif table.name == "job_queues":  # a queue's head is its last job
                statement = statement.where(table.c.last_job_id.in_(jobs))
            elif "lead_id" in table.c:
                statement = statement.where(table.c.lead_id.in_(leads))
            else:
                raise AssertionError(f"table {table.name}: which workspace does a row belong to?")
            snapshot[table.name] = [dict(row) for row in session.execute(statement).mappings()]
    return snapshot


def table_rows(db: Database, table: Table) -> int:
    with db.read_sessions() as session:
        return len(session.execute(select(table)).all())


@pytest.fixture
def acme(workspace: WorkspaceClient, db: Database, settings: Settings, globex: Tenant) -> Tenant:
    """Built after Globex, whose build runs every queued job: Acme's pending job stays so."""
    return build_tenant(
        workspace, db, settings, tag="acme", sentiment="positive", with_pending_job=True
    )


@pytest.fixture
def globex(other_workspace: WorkspaceClient, db: Database, settings: Settings) -> Tenant:
    return build_tenant(
        other_workspace, db, settings, tag="globex", sentiment="negative", with_pending_job=False
    )


@pytest.fixture
def acme_settled(workspace: WorkspaceClient, db: Database, settings: Settings) -> Tenant:
    """Acme without a pending job: a test may run jobs without running Acme's."""
    return build_tenant(
        workspace, db, settings, tag="acme", sentiment="positive", with_pending_job=False
    )


# --- every route with an {id} ----------------------------------------------------------

# Which of A's resources each `{id}` route is called with.
ID_OF: dict[str, Callable[[Tenant], str | None]] = {
    "/api/v2/workspace-members/{id}": lambda t: t.member_id,
    "/api/v2/api-keys/{id}": lambda t: t.spare_key_id,
    "/api/v2/campaigns/{id}": lambda t: t.campaign_id,
    "/api/v2/lead-labels/{id}": lambda t: t.label_id,
    "/api/v2/lead-lists/{id}": lambda t: t.list_id,
    "/api/v2/leads/{id}": lambda t: t.list_lead_ids[1],
    "/api/v2/leads/{id}/assignment-history": lambda t: t.list_lead_ids[1],
    "/api/v2/smart-views/{id}": lambda t: t.smart_view_id,
    "/api/v2/background-jobs/{id}": lambda t: t.finished_job_id,
    "/api/v2/background-jobs/{id}/cancel": lambda t: t.pending_job_id,
    "/api/v2/background-jobs/{id}/revert": lambda t: t.finished_job_id,
    "/api/v2/webhooks/{id}": lambda t: t.webhook_id,
    "/api/v2/webhooks/{id}/deliveries": lambda t: t.webhook_id,
}

# A body the owner of the resource would get a 2xx for: B's 404 is then never a masked 400.
BODIES: dict[str, dict[str, Any]] = {
    "PATCH /api/v2/workspace-members/{id}": {"nickname": "taken over"},
    "PATCH /api/v2/campaigns/{id}": {"name": "taken over"},
    "PATCH /api/v2/lead-labels/{id}": {"label": "taken over"},
    "PATCH /api/v2/lead-lists/{id}": {"name": "taken over"},
    "PATCH /api/v2/leads/{id}": {"first_name": "taken over", "assigned_to": None},
    "PATCH /api/v2/smart-views/{id}": {"name": "taken over"},
    "PATCH /api/v2/webhooks/{id}": {"name": "taken over"},
}

ID_ROUTES = sorted(
    (method, route.path)
    for route in api_routes()
    if "{id}" in route.path
    for method in route.methods
)


def call(client: TestClient, method: str, path: str, resource_id: str) -> Any:
    url = path.replace("{id}", resource_id)
    body = BODIES.get(f"{method} {path}")
    if body is not None:
        return client.request(method, url, json=body)
    if method in ("POST", "PATCH", "PUT"):
        return client.request(method, url, json={})
    return client.request(method, url)


def test_every_id_route_is_given_a_resource_and_a_body() -> None:
    missing = sorted({path for _, path in ID_ROUTES} - set(ID_OF))
    assert missing == [], "add A's resource for these routes to ID_OF"
    for method, path in ID_ROUTES:
        if method in ("PATCH", "PUT"):
            assert f"{method} {path}" in BODIES, f"add a valid body for {method} {path}"


@pytest.mark.parametrize(("method", "path"), ID_ROUTES, ids=lambda value: value)
def test_another_workspaces_resource_is_404_like_a_missing_one_and_is_left_alone(
    method: str, path: str, acme: Tenant, globex: Tenant, db: Database
) -> None:
    resource_id = ID_OF[path](acme)
    assert resource_id is not None
    before = tenant_rows(db, acme.workspace.workspace_id)
    missing_id = str(uuid.uuid4())

    foreign = call(globex.client, method, path, resource_id)
    missing = call(globex.client, method, path, missing_id)

    foreign_error = assert_is_error(foreign, 404)
    missing_error = assert_is_error(missing, 404)
    assert foreign_error["message"].replace(resource_id, "<id>") == missing_error[
        "message"
    ].replace(missing_id, "<id>")
    assert tenant_rows(db, acme.workspace.workspace_id) == before
    # The same call is one the owner may make: the 404 is isolation, not a bad request.
    own = call(acme.client, method, path, resource_id)
    assert 200 <= own.status_code < 300, f"{method} {path} by its owner: {own.text}"


# --- every list ------------------------------------------------------------------------

LIST_ROUTES = sorted(
    (method, route.path)
    for route in api_routes()
    if "{" not in route.path
    for method in route.methods
    if method == "GET"
)


@pytest.mark.parametrize(("method", "path"), LIST_ROUTES, ids=lambda value: value)
def test_a_list_shows_nothing_of_another_workspace(
    method: str, path: str, acme: Tenant, globex: Tenant
) -> None:
    response = globex.client.request(method, path, params={"limit": 100})
    if response.status_code == 400 and "limit" in response.text:
        response = globex.client.request(method, path)
    text = json.dumps(ok(response))

    assert [found for found in acme.ids() if found in text] == []
    assert any(own in text for own in globex.ids()), f"{path} shows nothing of B either"


def test_selecting_leads_finds_only_the_callers(acme: Tenant, globex: Tenant) -> None:
    def listed(body: dict[str, Any]) -> list[str]:
        page = ok(globex.client.post("/api/v2/leads/list", json={"limit": 100, **body}))
        return [lead["id"] for lead in page["items"]]

    assert sorted(listed({})) == sorted(globex.lead_ids)
    assert listed({"ids": acme.lead_ids}) == []
    assert listed({"excluded_ids": globex.lead_ids}) == []
    assert listed({"contacts": [SHARED_EMAIL, "one@acme.test"]}) == [globex.list_lead_ids[0]]
    assert listed({"search": "acme"}) == []
    assert listed({"organization_user_ids": [acme.member_user_id]}) == []
    for reference in ("campaign", "list_id", "smart_view_id", "assigned_to"):
        value = {
            "campaign": acme.campaign_id,
            "list_id": acme.list_id,
            "smart_view_id": acme.smart_view_id,
            "assigned_to": acme.member_user_id,
        }[reference]
        response = globex.client.post("/api/v2/leads/list", json={reference: value})
        assert f"`{reference}`" in assert_is_error(response, 404)["message"]


def test_custom_label_filters_read_only_the_callers_labels(acme: Tenant, globex: Tenant) -> None:
    """Both workspaces label interest status 4242: positive in A, negative in B."""

    def listed(client: TestClient, filter_value: str) -> list[str]:
        page = ok(client.post("/api/v2/leads/list", json={"filter": filter_value}))
        return [lead["id"] for lead in page["items"]]

    assert listed(globex.client, "FILTER_LEAD_CUSTOM_LABEL_POSITIVE") == []
    assert listed(globex.client, "FILTER_LEAD_CUSTOM_LABEL_NEGATIVE") == [globex.list_lead_ids[2]]
    assert listed(acme.client, "FILTER_LEAD_CUSTOM_LABEL_POSITIVE") == [acme.list_lead_ids[2]]


def test_background_job_filters_find_only_the_callers_jobs(acme: Tenant, globex: Tenant) -> None:
    assert acme.pending_job_id is not None
    for params in (
        {"ids": f"{acme.finished_job_id},{acme.pending_job_id}"},
        {"included_ids": acme.finished_job_id},
        {"entity_id": acme.workspace.workspace_id},
        {"entity_id": acme.campaign_id},
    ):
        listed = ok(globex.client.get("/api/v2/background-jobs", params=params))
        assert listed["items"] == [], params


# --- bulk operations with A's ids --------------------------------------------------------


def test_bulk_assign_never_touches_another_workspaces_leads(
    acme_settled: Tenant, globex: Tenant, db: Database, settings: Settings
) -> None:
    acme = acme_settled
    before = tenant_rows(db, acme.workspace.workspace_id)
    targets = [globex.workspace.owner_user_id]

    by_ids = ok(
        globex.client.post(
            "/api/v2/leads/bulk-assign",
            json={"organization_user_ids": targets, "ids": acme.lead_ids},
        ),
        202,
    )
    everything = ok(
        globex.client.post("/api/v2/leads/bulk-assign", json={"organization_user_ids": targets}),
        202,
    )
    run_jobs(db, settings)

    assert (
        ok(globex.client.get(f"/api/v2/background-jobs/{by_ids['job_id']}"))["data"][
            "total_to_process"
        ]
        == 0
    )
    finished = ok(globex.client.get(f"/api/v2/background-jobs/{everything['job_id']}"))
    assert finished["data"]["total_to_process"] == len(globex.lead_ids)
    assert tenant_rows(db, acme.workspace.workspace_id) == before


def test_bulk_assign_cannot_select_by_another_workspaces_references(
    acme_settled: Tenant, globex: Tenant, db: Database
) -> None:
    acme = acme_settled
    before = tenant_rows(db, acme.workspace.workspace_id)
    jobs_before = table_rows(db, BackgroundJob.__table__)
    references = {
        "campaign": acme.campaign_id,
        "list_id": acme.list_id,
        "smart_view_id": acme.smart_view_id,
        "assigned_to": acme.member_user_id,
    }
    for name, value in references.items():
        response = globex.client.post(
            "/api/v2/leads/bulk-assign",
            json={"organization_user_ids": [globex.member_user_id], name: value},
        )
        assert f"`{name}`" in assert_is_error(response, 404)["message"]

    assert table_rows(db, BackgroundJob.__table__) == jobs_before
    assert tenant_rows(db, acme.workspace.workspace_id) == before


def test_bulk_assign_to_another_workspaces_users_is_400(
    acme_settled: Tenant, globex: Tenant, db: Database
) -> None:
    acme = acme_settled
    jobs_before = table_rows(db, BackgroundJob.__table__)
    for user_id in (acme.workspace.owner_user_id, acme.member_user_id):
        for targets in ([user_id], [globex.member_user_id, user_id]):
            for dry_run in (False, True):
                response = globex.client.post(
                    "/api/v2/leads/bulk-assign",
                    json={"organization_user_ids": targets, "dry_run": dry_run},
                )
                error = assert_is_error(response, 400)
                assert error["message"].startswith("Invalid ID on `organization_user_ids` field")
                assert user_id in error["message"]

    assert table_rows(db, BackgroundJob.__table__) == jobs_before


def test_move_never_takes_another_workspaces_leads_or_destinations(
    acme_settled: Tenant, globex: Tenant, db: Database, settings: Settings
) -> None:
    acme = acme_settled
    before = tenant_rows(db, acme.workspace.workspace_id)
    into_own_list = {"to_list_id": globex.list_id}

    # A move answers the background job itself (as Instantly does).
    moved = ok(
        globex.client.post("/api/v2/leads/move", json={"ids": acme.lead_ids, **into_own_list})
    )
    by_email = ok(
        globex.client.post(
            "/api/v2/leads/move", json={"contacts": ["one@acme.test"], **into_own_list}
        )
    )
    for body, field_name, status in (
        ({"to_list_id": acme.list_id}, "to_list_id", 404),
        ({"to_campaign_id": acme.campaign_id}, "to_campaign_id", 404),
        ({"campaign": acme.campaign_id, **into_own_list}, "campaign", 404),
        ({"list_id": acme.list_id, **into_own_list}, "list_id", 404),
        ({"smart_view_id": acme.smart_view_id, **into_own_list}, "smart_view_id", 404),
        ({"assigned_to": acme.member_user_id, **into_own_list}, "assigned_to", 400),
    ):
        response = globex.client.post("/api/v2/leads/move", json=body)
        assert f"`{field_name}`" in assert_is_error(response, status)["message"], body
    run_jobs(db, settings)

    for accepted in (moved, by_email):
        job = ok(globex.client.get(f"/api/v2/background-jobs/{accepted['id']}"))
        assert job["status"] == "success"
        assert job["data"]["total_to_process"] == 0
    assert tenant_rows(db, acme.workspace.workspace_id) == before


def test_bulk_delete_never_deletes_another_workspaces_leads(
    acme_settled: Tenant, globex: Tenant, db: Database
) -> None:
    acme = acme_settled
    before = tenant_rows(db, acme.workspace.workspace_id)

    for body in ({"list_id": acme.list_id}, {"campaign_id": acme.campaign_id}):
        assert_is_error(globex.client.request("DELETE", "/api/v2/leads", json=body), 404)
    for body in (
        {"list_id": globex.list_id, "ids": acme.list_lead_ids},
        {"campaign_id": globex.campaign_id, "ids": acme.campaign_lead_ids},
    ):
        deleted = ok(globex.client.request("DELETE", "/api/v2/leads", json=body))
        assert deleted == {"count": 0}

    assert tenant_rows(db, acme.workspace.workspace_id) == before


def test_interest_status_updates_only_the_callers_leads(
    acme_settled: Tenant, globex: Tenant, db: Database, settings: Settings
) -> None:
    acme = acme_settled
    before = tenant_rows(db, acme.workspace.workspace_id)

    accepted = ok(
        globex.client.post(
            "/api/v2/leads/update-interest-status",
            json={"lead_email": SHARED_EMAIL, "interest_value": 1},
        ),
        202,
    )
    for body, status in (
        ({"lead_email": SHARED_EMAIL, "interest_value": 1, "campaign_id": acme.campaign_id}, 404),
        ({"lead_email": SHARED_EMAIL, "interest_value": 1, "list_id": acme.list_id}, 404),
        ({"lead_email": "one@acme.test", "interest_value": 1}, 202),
    ):
        response = globex.client.post("/api/v2/leads/update-interest-status", json=body)
        assert response.status_code == status, response.text
    run_jobs(db, settings)

    assert (
        ok(globex.client.get(f"/api/v2/background-jobs/{accepted['job_id']}"))["data"][
            "updated_count"
        ]
        == 1
    )
    own = ok(globex.client.get(f"/api/v2/leads/{globex.list_lead_ids[0]}"))
    assert own["lt_interest_status"] == 1
    assert tenant_rows(db, acme.workspace.workspace_id) == before


def test_activities_apply_only_to_the_callers_leads(
    acme_settled: Tenant, globex: Tenant, db: Database
) -> None:
    acme = acme_settled
    before = tenant_rows(db, acme.workspace.workspace_id)
    now = datetime.now(UTC).isoformat()

    applied = ok(
        globex.client.post(
            "/api/v2/lead-activities",
            json={
                "activities": [
                    {"lead_id": acme.list_lead_ids[1], "type": "opened", "timestamp": now},
                    {"email": "one@acme.test", "type": "replied", "timestamp": now},
                    {"email": SHARED_EMAIL, "type": "clicked", "timestamp": now},
                ]
            },
        )
    )

    assert applied == {"applied": 1}
    assert (
        ok(globex.client.get(f"/api/v2/leads/{globex.list_lead_ids[0]}"))["email_click_count"] == 1
    )
    assert tenant_rows(db, acme.workspace.workspace_id) == before


def test_leads_cannot_be_created_in_or_given_to_another_workspace(
    acme_settled: Tenant, globex: Tenant, db: Database
) -> None:
    acme = acme_settled
    before = tenant_rows(db, acme.workspace.workspace_id)
    lead = {"email": "new@globex.test"}

    for body, status, field_name in (
        ({"list_id": acme.list_id, "leads": [lead]}, 404, None),
        ({"campaign_id": acme.campaign_id, "leads": [lead]}, 404, None),
        (
            {"list_id": globex.list_id, "assigned_to": acme.member_user_id, "leads": [lead]},
            400,
            "assigned_to",
        ),
        (
            {"list_id": globex.list_id, "leads": [{**lead, "assigned_to": acme.member_user_id}]},
            400,
            "leads.0.assigned_to",
        ),
    ):
        response = globex.client.post("/api/v2/leads/add", json=body)
        error = assert_is_error(response, status)
        if field_name:
            assert f"`{field_name}`" in error["message"]
    for body, status in (
        ({**lead, "list_id": acme.list_id}, 404),
        ({**lead, "campaign": acme.campaign_id}, 404),
        ({**lead, "assigned_to": acme.member_user_id}, 400),
    ):
        assert_is_error(globex.client.post("/api/v2/leads", json=body), status)
    own_lead = f"/api/v2/leads/{globex.list_lead_ids[1]}"
    for owner in (acme.member_user_id, acme.workspace.owner_user_id):
        assert_is_error(globex.client.patch(own_lead, json={"assigned_to": owner}), 400)

    assert tenant_rows(db, acme.workspace.workspace_id) == before


def test_smart_views_cannot_reference_another_workspace(
    acme_settled: Tenant, globex: Tenant, db: Database
) -> None:
    acme = acme_settled
    before = tenant_rows(db, acme.workspace.workspace_id)

    for reference, value in (("campaign", acme.campaign_id), ("list_id", acme.list_id)):
        created = globex.client.post("/api/v2/smart-views", json={"name": "peek", reference: value})
        assert f"`{reference}`" in assert_is_error(created, 404)["message"]
        changed = globex.client.patch(
            f"/api/v2/smart-views/{globex.smart_view_id}", json={reference: value}
        )
        assert f"`{reference}`" in assert_is_error(changed, 404)["message"]

    assert tenant_rows(db, acme.workspace.workspace_id) == before
