"""The scopes a key may be given: Instantly's APIKey scope list, plus leadroute's smart views.

Keeping Instantly's whole list (not only the resources leadroute serves) lets a client copy a
key definition from Instantly unchanged; a scope for a resource leadroute does not have simply
grants nothing.
"""

from typing import Final

_ACTIONS: Final = ("all", "create", "read", "update", "delete")

# In the order of Instantly's enum; each has every action unless listed below.
_INSTANTLY_RESOURCES: Final = (
    "all",
    "ai_agents",
    "api_keys",
    "audit_logs",
    "custom_prompt_templates",
    "account_campaign_mappings",
    "campaigns",
    "inbox_placement_tests",
    "inbox_placement_analytics",
    "inbox_placement_reports",
    "lead_lists",
    "leads",
    "background-jobs",
    "custom_tags",
    "custom_tag_mappings",
    "crm_actions",
    "accounts",
    "block_list_entries",
    "lead-labels",
    "email_verifications",
    "emails",
    "email_templates",
    "workspaces",
    "workspace_billing",
    "workspace_group_members",
    "workspace_members",
    "subsequences",
    "ai_sdr",
    "ai_sdr_replies",
    "ai_inbox_manager_analytics",
    "sales_flows",
    "webhooks",
    "webhook_events",
    "security_tokens",
    "dfy_email_account_orders",
    "auth",
)
_LIMITED_ACTIONS: Final = {"email_verifications": ("all", "create", "read")}

# [extension] resources leadroute adds to Instantly's list.
_LEADROUTE_RESOURCES: Final = ("smart_views",)


def _scopes_of(resource: str) -> tuple[str, ...]:
    return tuple(f"{resource}:{action}" for action in _LIMITED_ACTIONS.get(resource, _ACTIONS))


INSTANTLY_SCOPES: Final[tuple[str, ...]] = tuple(
    scope for resource in _INSTANTLY_RESOURCES for scope in _scopes_of(resource)
)
KNOWN_SCOPES: Final[frozenset[str]] = frozenset(INSTANTLY_SCOPES).union(
    scope for resource in _LEADROUTE_RESOURCES for scope in _scopes_of(resource)
)
