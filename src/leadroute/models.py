"""Imports every table so ``Base.metadata`` is complete (for Alembic and for tests)."""

from leadroute.api_keys.models import ApiKey
from leadroute.assignment.models import AssignmentBatch, AssignmentRotation
from leadroute.campaigns.models import Campaign
from leadroute.db.base import Base
from leadroute.idempotency.models import IdempotencyKey
from leadroute.jobs.models import BackgroundJob, JobQueue
from leadroute.lead_labels.models import LeadLabel
from leadroute.lead_lists.models import LeadList
from leadroute.leads.models import Lead
from leadroute.members.models import User, WorkspaceMember
from leadroute.smart_views.models import SmartView
from leadroute.webhooks.models import Webhook, WebhookDelivery
from leadroute.workspaces.models import Workspace

__all__ = [
    "ApiKey",
    "AssignmentBatch",
    "AssignmentRotation",
    "BackgroundJob",
    "Base",
    "Campaign",
    "IdempotencyKey",
    "JobQueue",
    "Lead",
    "LeadLabel",
    "LeadList",
    "SmartView",
    "User",
    "Webhook",
    "WebhookDelivery",
    "Workspace",
    "WorkspaceMember",
]
