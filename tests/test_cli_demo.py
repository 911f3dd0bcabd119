"""`leadroute demo`: a workspace of realistic fake data, through a real server."""

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from leadroute.campaigns.models import Campaign
from leadroute.db.session import Database
from leadroute.lead_labels.models import LeadLabel
from leadroute.lead_lists.models import LeadList
from leadroute.leads.models import Lead
from leadroute.members.models import User, WorkspaceMember
from leadroute.settings import Settings
from leadroute.smart_views.models import SmartView
from tests.cli_support import LiveServer, live_server, run_cli
from tests.conftest import WorkspaceClient


@pytest.fixture
def server(db: Database, settings: Settings) -> Iterator[LiveServer]:
    yield from live_server(db, settings)


def demo(server: LiveServer, workspace: WorkspaceClient, *args: str) -> dict[str, Any]:
    result = run_cli(server, workspace.api_key, "demo", "--json", *args)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def leads_of(db: Database, workspace_id: str) -> list[Lead]:
    with db.read_sessions() as session:
        return list(
            session.scalars(
                select(Lead).where(Lead.workspace_id == uuid.UUID(workspace_id)).order_by(Lead.id)
            )
        )


def test_demo_fills_a_workspace_with_members_lists_campaigns_and_engaged_leads(
    server: LiveServer, workspace: WorkspaceClient, db: Database
) -> None:
    report = demo(server, workspace)

    assert report["leads_created"] == 5000
    assert report["created_members"] == 6
    assert report["activities_applied"] > 5000
    workspace_id = uuid.UUID(workspace.workspace_id)
    with db.read_sessions() as session:
        members = session.scalars(
            select(User.email)
            .join(WorkspaceMember, WorkspaceMember.user_id == User.id)
            .where(WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.role == "editor")
        ).all()
        lists = dict(
            session.execute(
                select(LeadList.id, LeadList.name).where(LeadList.workspace_id == workspace_id)
            ).all()
        )
        campaigns = dict(
            session.execute(
                select(Campaign.id, Campaign.name).where(Campaign.workspace_id == workspace_id)
            ).all()
        )
        labels = session.scalars(
            select(LeadLabel.label).where(LeadLabel.workspace_id == workspace_id)
        ).all()
        views = session.scalar(
            select(func.count())
            .select_from(SmartView)
            .where(SmartView.workspace_id == workspace_id)
        )
    assert len(members) == 6
    assert sorted(lists.values()) == ["Conference 2025", "Inbound demo requests", "Webinar signups"]
    assert sorted(campaigns.values()) == ["Follow-up - Fintech", "Outbound - SaaS founders"]
    assert labels == ["Referral"]
    assert views == 1

    leads = leads_of(db, workspace.workspace_id)
    assert len(leads) == 5000
    assert len({lead.email for lead in leads}) == 5000
    in_campaigns = [lead for lead in leads if lead.campaign is not None]
    in_lists = [lead for lead in leads if lead.list_id is not None]
    assert len(in_campaigns) + len(in_lists) == 5000
    assert all(lead.timestamp_last_contact is None for lead in in_lists)
    contacted = [lead for lead in in_campaigns if lead.timestamp_last_contact is not None]
    assert 0.6 < len(contacted) / len(in_campaigns) < 0.9
    statuses = Counter(lead.status for lead in leads)
    assert min(statuses[-1], statuses[-2], statuses[3]) > 0  # bounced, unsubscribed, completed
    replied = [lead for lead in leads if lead.email_reply_count > 0]
    assert replied
    assert all(lead.lt_interest_status is not None for lead in replied)
    assert len({lead.lt_interest_status for lead in replied}) >= 8
    assert sum(1 for lead in leads if lead.email_open_count > 0) > len(replied)
    assert sum(1 for lead in leads if lead.email_click_count > 0) > 0
    assert {lead.verification_status for lead in in_campaigns} >= {1, -1, -2, -3}
    owned = sum(1 for lead in leads if lead.assigned_to is not None)
    assert 0.4 < owned / 5000 < 0.6
    assert all(
        set(lead.payload or {}) == {"industry", "company_size", "city", "source"} for lead in leads
    )


def fingerprint(db: Database, workspace_id: str) -> list[tuple[Any, ...]]:
    """What a seed decides, without ids and times."""
    return sorted(
        (
            lead.email,
            lead.first_name,
            lead.company_name,
            lead.campaign is None,
            lead.assigned_to,
            lead.lt_interest_status,
            lead.status,
            lead.email_open_count,
            lead.email_reply_count,
            lead.email_click_count,
            lead.verification_status,
            lead.timestamp_last_contact is None,
        )
        for lead in leads_of(db, workspace_id)
    )


def test_the_same_seed_gives_the_same_data(
    server: LiveServer,
    workspace: WorkspaceClient,
    other_workspace: WorkspaceClient,
    db: Database,
) -> None:
    demo(server, workspace, "--seed", "11", "--leads", "400")
    demo(server, other_workspace, "--seed", "11", "--leads", "400")

    first = fingerprint(db, workspace.workspace_id)
    assert first == fingerprint(db, other_workspace.workspace_id)
    assert len(first) == 400


def test_another_seed_gives_other_data(
    server: LiveServer,
    workspace: WorkspaceClient,
    other_workspace: WorkspaceClient,
    db: Database,
) -> None:
    demo(server, workspace, "--seed", "1", "--leads", "100")
    demo(server, other_workspace, "--seed", "2", "--leads", "100")

    assert fingerprint(db, workspace.workspace_id) != fingerprint(db, other_workspace.workspace_id)


def test_running_the_demo_again_adds_nothing(
    server: LiveServer, workspace: WorkspaceClient, db: Database
) -> None:
    demo(server, workspace, "--seed", "4", "--leads", "300", "--members", "3")
    before = fingerprint(db, workspace.workspace_id)

    again = demo(server, workspace, "--seed", "4", "--leads", "300", "--members", "3")

    assert (again["leads_created"], again["leads_skipped"]) == (0, 300)
    assert (again["created_members"], again["activities_applied"]) == (0, 0)
    assert fingerprint(db, workspace.workspace_id) == before
