"""Instantly's campaign body.

leadroute treats a campaign as a container of leads: besides `name` it stores the body's
fields (schedule, sequences, sending options) in ``Campaign.settings`` exactly as given and
answers them back, without acting on them. They are still validated as Instantly validates
them, so a stored campaign always reads back as a valid Instantly campaign. Scalars are strict
(``5`` stays ``5``, ``"true"`` is not a boolean) so that what is stored is what was sent.
Unknown fields are ignored at every level (Instantly's Campaign allows no other property).
"""

import datetime
import uuid
from enum import IntEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
)

from leadroute.campaigns.models import Campaign
from leadroute.campaigns.timezones import SCHEDULE_TIMEZONES
from leadroute.schemas import Timestamp


def _json_number(value: Any) -> int | float:
    # One validator rather than `StrictInt | StrictFloat`, so an error names the field alone
    # (a union names each member) and an int stays an int.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a number")
    return value


JsonNumber = Annotated[
    int | float, PlainValidator(_json_number), WithJsonSchema({"type": "number"})
]
_HOUR_MINUTE = r"^([01][0-9]|2[0-3]):([0-5][0-9])$"
_TIMEZONES = frozenset(SCHEDULE_TIMEZONES)


class CampaignStatus(IntEnum):
    ACCOUNT_SUSPENDED = -99
    ACCOUNTS_UNHEALTHY = -1
    BOUNCE_PROTECT = -2
    DRAFT = 0
    ACTIVE = 1
    PAUSED = 2
    COMPLETED = 3
    RUNNING_SUBSEQUENCES = 4


def _check_date(value: str) -> str:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a date (YYYY-MM-DD)") from None
    if len(value) != 10:
        raise ValueError("is not a date (YYYY-MM-DD)")
    return value


def _check_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError(f"`{value}` is not one of the schedule time zones")
    return value


IsoDate = Annotated[
    StrictStr, AfterValidator(_check_date), Field(json_schema_extra={"format": "date"})
]
ScheduleTimezone = Annotated[
    StrictStr,
    AfterValidator(_check_timezone),
    Field(json_schema_extra={"enum": list(SCHEDULE_TIMEZONES)}),
]
Weekday = Literal["0", "1", "2", "3", "4", "5", "6"]
DelayUnit = Literal["minutes", "hours", "days"]
Esp = Literal["all", "google", "outlook", "other"]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ScheduleTiming(_Part):
    from_: StrictStr = Field(alias="from", pattern=_HOUR_MINUTE)
    to: StrictStr = Field(pattern=_HOUR_MINUTE)


class Schedule(_Part):
    name: StrictStr
    timing: ScheduleTiming
    days: dict[Weekday, StrictBool] = Field(min_length=1)
    timezone: ScheduleTimezone


class CampaignSchedule(_Part):
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    schedules: list[Schedule] = Field(min_length=1)


class Variant(_Part):
    subject: StrictStr
    body: StrictStr
    v_disabled: StrictBool | None = None


class Step(_Part):
    type: Literal["email"]
    delay: JsonNumber
    delay_unit: DelayUnit = "days"
    pre_delay: JsonNumber | None = None
    pre_delay_unit: DelayUnit = "days"
    variants: list[Variant]


class CampaignSequence(_Part):
    steps: list[Step]


class AutoVariantSelect(_Part):
    trigger: Literal["reply_rate", "click_rate", "open_rate"]


class CompanyLimitOverride(_Part):
    mode: Literal["custom", "disabled"]
    daily_limit: JsonNumber | None = Field(default=None, ge=1)
    scope: Literal["per_campaign", "across_workspace"] | None = None


class ProviderRoutingRule(_Part):
    action: Literal["send", "do_not_send"]
    recipient_esp: list[Esp]
    sender_esp: list[Esp]


# Fields whose Instantly type has no null: absent is fine, an explicit null is a 400.
_NOT_NULLABLE = (
    "name",
    "campaign_schedule",
    "sequences",
    "email_list",
    "email_tag_list",
    "open_tracking",
    "cc_list",
    "bcc_list",
    "provider_routing_rules",
)


class CampaignFields(_Part):
    """Every writable field of Instantly's campaign body; all optional here."""

    name: StrictStr | None = Field(default=None, min_length=1, max_length=255)
    campaign_schedule: CampaignSchedule | None = None
    pl_value: JsonNumber | None = None
    is_evergreen: StrictBool | None = None
    sequences: list[CampaignSequence] | None = None
    email_gap: JsonNumber | None = None
    random_wait_max: JsonNumber | None = None
    text_only: StrictBool | None = None
    first_email_text_only: StrictBool | None = None
    email_list: list[StrictStr] | None = None
    daily_limit: JsonNumber | None = None
    stop_on_reply: StrictBool | None = None
    email_tag_list: list[StrictStr] | None = None
    link_tracking: StrictBool | None = None
    open_tracking: StrictBool | None = None
    stop_on_auto_reply: StrictBool | None = None
    daily_max_leads: StrictInt | None = Field(default=None, ge=0)
    prioritize_new_leads: StrictBool | None = None
    auto_variant_select: AutoVariantSelect | None = None
    match_lead_esp: StrictBool | None = None
    stop_for_company: StrictBool | None = None
    insert_unsubscribe_header: StrictBool | None = None
    allow_risky_contacts: StrictBool | None = None
    disable_bounce_protect: StrictBool | None = None
    limit_emails_per_company_override: CompanyLimitOverride | None = None
    cc_list: list[StrictStr] | None = None
    bcc_list: list[StrictStr] | None = None
    owned_by: uuid.UUID | None = None
    provider_routing_rules: list[ProviderRoutingRule] | None = None

    @field_validator(*_NOT_NULLABLE, mode="before")
    @classmethod
    def _given_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value

    def stored_settings(self) -> dict[str, Any]:
        """The given fields except `name`, as JSON, for ``Campaign.settings``."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"name"})


class CampaignCreate(CampaignFields):
    name: StrictStr = Field(min_length=1, max_length=255)
    campaign_schedule: CampaignSchedule
    ai_sdr_id: StrictStr | None = None


class CampaignUpdate(CampaignFields):
    """At least one field; `ai_sdr_id` is not writable after creation (as in Instantly)."""


class CampaignRead(CampaignFields):
    """Answered with ``response_model_exclude_unset``: settings never given stay absent."""

    id: uuid.UUID
    name: StrictStr
    status: CampaignStatus
    campaign_schedule: CampaignSchedule
    timestamp_created: Timestamp
    timestamp_updated: Timestamp
    organization: uuid.UUID = Field(description="The workspace id.")
    ai_sdr_id: StrictStr | None = None

    @classmethod
    def of(cls, campaign: Campaign) -> Self:
        return cls.model_validate(
            {
                **campaign.settings,
                "id": campaign.id,
                "name": campaign.name,
                "status": campaign.status,
                "timestamp_created": campaign.timestamp_created,
                "timestamp_updated": campaign.timestamp_updated,
                "organization": campaign.workspace_id,
            }
        )
