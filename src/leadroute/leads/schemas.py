"""Wire format of a lead: exactly the fields of Instantly's ``Lead`` schema."""

import uuid
from collections.abc import Callable

from typing import Any

from pydantic import Field, model_serializer

from leadroute.schemas import Timestamp, WireModel

# Instantly types these as plain numbers or objects (not nullable): a lead without a value
# leaves the field out rather than sending null.
OMITTED_WHEN_NULL = frozenset(
    {
        "lt_interest_status",
        "verification_status",
        "enrichment_status",
        "esp_code",
        "esg_code",
        "status_summary_subseq",
    }
)


class LeadRead(WireModel):
    id: uuid.UUID
    timestamp_created: Timestamp
    timestamp_updated: Timestamp
    organization: uuid.UUID = Field(validation_alias="workspace_id")
    campaign: uuid.UUID | None
    status: int
    email: str | None
    personalization: str | None
    website: str | None
    last_name: str | None
    first_name: str | None
    company_name: str | None
    job_title: str | None
    phone: str | None
    email_open_count: int
    email_reply_count: int
    email_click_count: int
    company_domain: str
    status_summary: dict[str, Any]
    payload: dict[str, Any] | None
    status_summary_subseq: dict[str, Any] | None = None
    last_step_from: str | None
    last_step_id: str | None
    last_step_timestamp_executed: Timestamp | None
    email_opened_step: int | None
    email_opened_variant: int | None
    email_replied_step: int | None
    email_replied_variant: int | None
    email_clicked_step: int | None
    email_clicked_variant: int | None
    lt_interest_status: int | None = None
    subsequence_id: uuid.UUID | None
    verification_status: int | None = None
    pl_value_lead: str | None
    timestamp_added_subsequence: Timestamp | None
    timestamp_last_contact: Timestamp | None
    timestamp_last_open: Timestamp | None
    timestamp_last_reply: Timestamp | None
    timestamp_last_interest_change: Timestamp | None
    timestamp_last_click: Timestamp | None
    enrichment_status: int | None = None
    list_id: uuid.UUID | None
    last_contacted_from: str | None
    uploaded_by_user: uuid.UUID | None
    upload_method: str
    assigned_to: uuid.UUID | None
    is_website_visitor: bool | None
    timestamp_last_touch: Timestamp | None
    esp_code: int | None = None
    esg_code: int | None = None

    @model_serializer(mode="wrap")
    def _omit_null_enums(self, handler: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        data = handler(self)
        for field in OMITTED_WHEN_NULL:
            if data.get(field) is None:
                data.pop(field, None)
        return data
