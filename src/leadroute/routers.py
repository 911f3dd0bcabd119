"""Every API router, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    from leadroute.api_keys.router import router as api_keys
    from leadroute.assignment.router import jobs_router as assignment_reverts
    from leadroute.assignment.router import router as bulk_assign
    from leadroute.campaigns.router import router as campaigns
    from leadroute.interest.router import router as interest_status
    from leadroute.jobs.router import router as background_jobs
    from leadroute.lead_labels.router import router as lead_labels
    from leadroute.lead_lists.router import router as lead_lists
    from leadroute.leads.list_router import router as leads_selected
    from leadroute.leads.owner_counts import router as lead_owner_counts
    from leadroute.leads.router import router as leads
    from leadroute.members.router import router as workspace_members
    from leadroute.moves.router import router as moves
    from leadroute.smart_views.router import router as smart_views
    from leadroute.webhooks.router import router as webhooks
    from leadroute.workspaces.router import router as workspaces

    return [
        workspaces,
        workspace_members,
        api_keys,
        campaigns,
        lead_labels,
        lead_lists,
        leads_selected,
        lead_owner_counts,
        leads,
        bulk_assign,
        moves,
        interest_status,
        smart_views,
        background_jobs,
        assignment_reverts,
        webhooks,
    ]
