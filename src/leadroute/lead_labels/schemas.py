"""Lead labels (custom interest statuses), with the fields of Instantly's LeadLabel."""

import uuid
from typing import Literal, Self

from pydantic import Field, StrictBool, StrictInt, StrictStr, field_validator

from leadroute.lead_labels.models import LeadLabel
from leadroute.schemas import RequestModel, Timestamp, WireModel

Sentiment = Literal["positive", "negative", "neutral"]

# The built-in interest statuses a lead can have; a label's number must be none of them.
STATIC_INTEREST_STATUSES = frozenset({1, 2, 3, 4, 0, -1, -2, -3, -4})
# The column is a 32-bit integer on PostgreSQL.
INTEREST_STATUS_MAX = 2**31 - 1


class LeadLabelCreate(RequestModel):
    label: StrictStr = Field(min_length=1, max_length=255)
    interest_status_label: Sentiment
    description: StrictStr | None = Field(default=None, max_length=1024)
    use_with_ai: StrictBool | None = None
    interest_status: StrictInt | None = Field(
        default=None,
        ge=-INTEREST_STATUS_MAX,
        le=INTEREST_STATUS_MAX,
        description="[extension] Instantly generates it; leadroute takes a given one too. "
        "Must be outside 1, 2, 3, 4, 0, -1, -2, -3, -4 and unique in the workspace.",
    )

    @field_validator("interest_status")
    @classmethod
    def _outside_the_static_set(cls, value: int | None) -> int | None:
        if value in STATIC_INTEREST_STATUSES:
            raise ValueError(f"{value} is a built-in interest status; use one outside -4..4")
        return value


class LeadLabelUpdate(RequestModel):
    label: StrictStr | None = Field(default=None, min_length=1, max_length=255)
    interest_status_label: Sentiment | None = None
    description: StrictStr | None = Field(default=None, max_length=1024)
    use_with_ai: StrictBool | None = None


class LeadLabelRead(WireModel):
    id: uuid.UUID
    timestamp_created: Timestamp
    created_by: uuid.UUID | None = Field(description="The user id of the creating key's owner.")
    organization_id: uuid.UUID
    label: str
    interest_status_label: Sentiment
    interest_status: int
    description: str | None
    use_with_ai: bool | None

    @classmethod
    def of(cls, label: LeadLabel) -> Self:
        return cls(
            id=label.id,
            timestamp_created=label.timestamp_created,
            created_by=label.created_by,
            organization_id=label.workspace_id,
            label=label.label,
            interest_status_label=label.interest_status_label,
            interest_status=label.interest_status,
            description=label.description,
            use_with_ai=label.use_with_ai,
        )
