import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadroute.db.base import Base
from leadroute.ids import new_id, utcnow


class Lead(Base):
    """A lead, with exactly the fields of Instantly's ``Lead`` schema.

    ``workspace_id`` is the wire field ``organization``; ``payload`` holds the custom
    variables. Engagement fields are written by lead activities, never by PATCH.
    """

    __tablename__ = "leads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    campaign: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("campaigns.id", ondelete="CASCADE"), default=None
    )
    list_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("lead_lists.id", ondelete="CASCADE"), default=None
    )
    status: Mapped[int] = mapped_column(default=1)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    personalization: Mapped[str | None] = mapped_column(default=None)
    website: Mapped[str | None] = mapped_column(String(2048), default=None)
    last_name: Mapped[str | None] = mapped_column(String(255), default=None)
    first_name: Mapped[str | None] = mapped_column(String(255), default=None)
    company_name: Mapped[str | None] = mapped_column(String(255), default=None)
    job_title: Mapped[str | None] = mapped_column(String(255), default=None)
    phone: Mapped[str | None] = mapped_column(String(64), default=None)
    email_open_count: Mapped[int] = mapped_column(default=0)
    email_reply_count: Mapped[int] = mapped_column(default=0)
    email_click_count: Mapped[int] = mapped_column(default=0)
    company_domain: Mapped[str] = mapped_column(String(255), default="")
    status_summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    status_summary_subseq: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    last_step_from: Mapped[str | None] = mapped_column(String(255), default=None)
    last_step_id: Mapped[str | None] = mapped_column(String(255), default=None)
    last_step_timestamp_executed: Mapped[datetime | None] = mapped_column(default=None)
    email_opened_step: Mapped[int | None] = mapped_column(default=None)
    email_opened_variant: Mapped[int | None] = mapped_column(default=None)
    email_replied_step: Mapped[int | None] = mapped_column(default=None)
    email_replied_variant: Mapped[int | None] = mapped_column(default=None)
    email_clicked_step: Mapped[int | None] = mapped_column(default=None)
    email_clicked_variant: Mapped[int | None] = mapped_column(default=None)
    lt_interest_status: Mapped[int | None] = mapped_column(default=None)
    subsequence_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    verification_status: Mapped[int | None] = mapped_column(default=None)
    pl_value_lead: Mapped[str | None] = mapped_column(String(255), default=None)
    timestamp_added_subsequence: Mapped[datetime | None] = mapped_column(default=None)
    timestamp_last_contact: Mapped[datetime | None] = mapped_column(default=None)
    timestamp_last_open: Mapped[datetime | None] = mapped_column(default=None)
    timestamp_last_reply: Mapped[datetime | None] = mapped_column(default=None)
    timestamp_last_interest_change: Mapped[datetime | None] = mapped_column(default=None)
    timestamp_last_click: Mapped[datetime | None] = mapped_column(default=None)
    enrichment_status: Mapped[int | None] = mapped_column(default=None)
    last_contacted_from: Mapped[str | None] = mapped_column(String(320), default=None)
    uploaded_by_user: Mapped[uuid.UUID | None] = mapped_column(default=None)
    upload_method: Mapped[str] = mapped_column(String(32), default="api")
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(default=None)
    is_website_visitor: Mapped[bool | None] = mapped_column(default=None)
    timestamp_last_touch: Mapped[datetime | None] = mapped_column(default=None)
    esp_code: Mapped[int | None] = mapped_column(default=None)
    esg_code: Mapped[int | None] = mapped_column(default=None)
    timestamp_created: Mapped[datetime] = mapped_column(default=utcnow)
    timestamp_updated: Mapped[datetime] = mapped_column(default=utcnow)


# A character no search term contains (chr(31)): it keeps a match from spanning last name
# and email. The selection module strips it from search terms.
SEARCH_SEPARATOR = "\x1f"


# Each lead's search text, ``lower(first_name || ' ' || last_name || SEP || email)``, kept
# by triggers (migration 0003). A case-insensitive substring of it is a substring of the
# first name, the last name, the email or "first last", which is what ``search`` means;
# PostgreSQL indexes it with a trigram GIN index, so ``search`` is an index lookup there.
# It is a table of its own so that updating a lead's other columns (an assignment) never
# writes the GIN index again: PostgreSQL gives an updated row new entries in every index of
# its table (docs/benchmarks.md).
lead_search = Table(
    "lead_search",
    Base.metadata,
    Column(
        "lead_id",
        Uuid(),
        ForeignKey("leads.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("search_text", Text(), nullable=False),
)


Index("ix_leads_workspace_id_id", Lead.workspace_id, Lead.id)
Index("ix_leads_workspace_id_assigned_to_id", Lead.workspace_id, Lead.assigned_to, Lead.id)
Index("ix_leads_workspace_id_campaign_id", Lead.workspace_id, Lead.campaign, Lead.id)
Index("ix_leads_workspace_id_list_id_id", Lead.workspace_id, Lead.list_id, Lead.id)
Index("ix_leads_workspace_id_status", Lead.workspace_id, Lead.status)
Index("ix_leads_workspace_id_lt_interest_status", Lead.workspace_id, Lead.lt_interest_status)
Index("ix_leads_workspace_id_verification_status", Lead.workspace_id, Lead.verification_status)
# Expression and operator-class indexes (lower(email) in migration 0002, the trigram index of
# lead_search on PostgreSQL in 0003) are created by hand: autogenerate cannot compare them.

# The table behind ``Lead``, for Core statements: bulk SQL, and pages read as plain records.
leads = cast(Table, Lead.__table__)
