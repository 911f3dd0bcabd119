"""Wire format of leads: the ``Lead`` answered everywhere (exactly the fields of Instantly's
``Lead`` schema), and the bodies of create, PATCH, ``/leads/add`` and ``/lead-activities``."""

import math
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from leadroute.schemas import RequestModel, Timestamp, WireModel


def is_none(value: object) -> bool:
    return value is None


# Instantly types some fields as plain numbers or objects (not nullable): a lead without a
# value leaves them out (``exclude_if=is_none``) rather than sending null.


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
    status_summary_subseq: dict[str, Any] | None = Field(default=None, exclude_if=is_none)
    last_step_from: str | None
    last_step_id: str | None
    last_step_timestamp_executed: Timestamp | None
    email_opened_step: int | None
    email_opened_variant: int | None
    email_replied_step: int | None
    email_replied_variant: int | None
    email_clicked_step: int | None
    email_clicked_variant: int | None
    lt_interest_status: int | None = Field(default=None, exclude_if=is_none)
    subsequence_id: uuid.UUID | None
    verification_status: int | None = Field(default=None, exclude_if=is_none)
    pl_value_lead: str | None
    timestamp_added_subsequence: Timestamp | None
    timestamp_last_contact: Timestamp | None
    timestamp_last_open: Timestamp | None
    timestamp_last_reply: Timestamp | None
    timestamp_last_interest_change: Timestamp | None
    timestamp_last_click: Timestamp | None
    enrichment_status: int | None = Field(default=None, exclude_if=is_none)
    list_id: uuid.UUID | None
    last_contacted_from: str | None
    uploaded_by_user: uuid.UUID | None
    upload_method: str
    assigned_to: uuid.UUID | None
    is_website_visitor: bool | None
    timestamp_last_touch: Timestamp | None
    esp_code: int | None = Field(default=None, exclude_if=is_none)
    esg_code: int | None = Field(default=None, exclude_if=is_none)


# --- Request bodies -------------------------------------------------------------------------

MAX_IMPORT_LEADS = 1000
MAX_ACTIVITIES = 1000
INT32_MAX = 2**31 - 1

# Instantly's static interest statuses; a workspace's lead labels add custom ones.
STATIC_INTEREST_STATUSES = frozenset({1, 2, 3, 4, 0, -1, -2, -3, -4})


def _without_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text or JSONB: refuse it here rather than fail in SQL.
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain the NUL character")
    return value


Text = Annotated[str, AfterValidator(_without_nul)]
Name = Annotated[str, Field(max_length=255), AfterValidator(_without_nul)]
Phone = Annotated[str, Field(max_length=64), AfterValidator(_without_nul)]
Website = Annotated[str, Field(max_length=2048), AfterValidator(_without_nul)]
# An email is judged by the service, not here: /leads/add counts invalid addresses instead of
# rejecting the batch. The bound only keeps absurd input out of memory.
EmailText = Annotated[str, Field(max_length=10_000), AfterValidator(_without_nul)]


def _scalar_values(value: dict[str, Any]) -> dict[str, Any]:
    """Instantly's rule: values are strings, numbers, booleans or null, never objects/arrays."""
    for key, item in value.items():
        _without_nul(key)
        if isinstance(item, str):
            _without_nul(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise PydanticCustomError(
                "custom_variable_not_finite", "`{key}` must be a finite number", {"key": key}
            )
        elif not (item is None or isinstance(item, bool | int | float)):
            raise PydanticCustomError(
                "custom_variable_not_scalar",
                "`{key}` must be a string, number, boolean or null "
                "(objects and arrays are not allowed)",
                {"key": key},
            )
    return value


CustomVariables = Annotated[dict[str, Any], AfterValidator(_scalar_values)]


class LeadFields(RequestModel):
    """The fields a client may write on a lead (create, import item and PATCH)."""

    personalization: Text | None = None
    website: Website | None = None
    last_name: Name | None = None
    first_name: Name | None = None
    company_name: Name | None = None
    job_title: Name | None = None
    phone: Phone | None = None
    # 32-bit on PostgreSQL: a larger value is a 400 here, not a failed INSERT.
    lt_interest_status: Annotated[int, Field(ge=-INT32_MAX, le=INT32_MAX)] | None = Field(
        default=None, exclude_if=is_none
    )
    pl_value_lead: Name | None = None
    assigned_to: uuid.UUID | None = None
    custom_variables: CustomVariables | None = None


class LeadCreate(LeadFields):
    """``POST /api/v2/leads``. ``blocklist_id`` and the verification flags are accepted and
    ignored: leadroute has no blocklists and no verifier."""

    campaign: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    email: EmailText | None = None
    skip_if_in_workspace: bool = False
    skip_if_in_campaign: bool = False
    skip_if_in_list: bool = False
    blocklist_id: str | None = None
    verify_leads_for_lead_finder: bool = False
    verify_leads_on_import: bool = False


class LeadUpdate(LeadFields):
    """``PATCH /api/v2/leads/{id}``: only the fields present in the body are written."""


class LeadImportItem(LeadFields):
    email: EmailText | None = None


class LeadImport(RequestModel):
    """``POST /api/v2/leads/add``."""

    campaign_id: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    leads: list[LeadImportItem] = Field(min_length=1, max_length=MAX_IMPORT_LEADS)
    blocklist_id: str | None = None
    assigned_to: uuid.UUID | None = None
    verify_leads_on_import: bool = False
    skip_if_in_workspace: bool = False
    skip_if_in_campaign: bool = False
    skip_if_in_list: bool = False


class CreatedLead(WireModel):
    index: int
    id: uuid.UUID
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None


class LeadImportSummary(WireModel):
    status: str = "success"
    total_sent: int
    leads_uploaded: int
    in_blocklist: int = 0
    blocklist_used: str | None = None
    duplicated_leads: int
    skipped_count: int
    invalid_email_count: int
    incomplete_count: int
    duplicate_email_count: int
    remaining_in_plan: int | None = None
    created_leads: list[CreatedLead]


# --- Lead activities [extension] ------------------------------------------------------------

ActivityType = Literal[
    "sent",
    "opened",
    "replied",
    "clicked",
    "bounced",
    "unsubscribed",
    "completed",
    "skipped",
    "verification",
]
VerificationResult = Literal["valid", "invalid", "risky", "catch_all", "pending"]
StepNumber = Annotated[int, Field(ge=0, le=INT32_MAX)]


class LeadActivity(RequestModel):
    """One event of a sending engine: ``lead_id`` or ``email`` (not both) names the lead."""

    lead_id: uuid.UUID | None = None
    email: Annotated[str, Field(max_length=320), AfterValidator(_without_nul)] | None = None
    type: ActivityType
    timestamp: datetime
    step: StepNumber | None = None
    variant: StepNumber | None = None
    result: VerificationResult | None = None

    @field_validator("email")
    @classmethod
    def _as_lookup_key(cls, value: str | None) -> str | None:
        # Only a key to find leads by: emails compare case-insensitively.
        if value is None:
            return None
        if not value.strip():
            raise PydanticCustomError("blank_email", "must not be blank")
        return value.strip().lower()

    @field_validator("timestamp")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        # A timestamp without a zone is UTC, as every timestamp on the wire.
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
            raise PydanticCustomError("timestamp_range", "is out of range") from None

    @model_validator(mode="after")
    def _names_one_lead(self) -> Self:
        if (self.lead_id is None) == (self.email is None):
            raise PydanticCustomError("lead_reference", "give `lead_id` or `email` (one of them)")
        if self.type == "verification" and self.result is None:
            raise PydanticCustomError(
                "verification_result",
                "`result` is required for type `verification` "
                "(valid, invalid, risky, catch_all, pending)",
            )
        return self


class LeadActivityBatch(RequestModel):
    activities: list[LeadActivity] = Field(min_length=1, max_length=MAX_ACTIVITIES)


class ActivitiesApplied(WireModel):
    applied: int
