import uuid

from pydantic import Field

from leadroute.schemas import RequestModel, WireModel
from leadroute.selection import InterestStatus


class UpdateInterestStatusRequest(RequestModel):
    lead_email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    # Compared with 32-bit columns on PostgreSQL: a larger value is a 400, not a failed query.
    interest_value: InterestStatus | None = Field(
        description="An interest status (static set or a lead label of the workspace); null resets."
    )
    campaign_id: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    ai_interest_value: float | None = Field(default=None, description="Accepted and ignored.")
    disable_auto_interest: bool | None = Field(default=None, description="Accepted and ignored.")


class UpdateInterestStatusAccepted(WireModel):
    message: str
    job_id: uuid.UUID
