import uuid

from pydantic import Field

from leadroute.schemas import RequestModel, WireModel


class UpdateInterestStatusRequest(RequestModel):
    lead_email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    interest_value: int | None = Field(
        description="An interest status (static set or a lead label of the workspace); null resets."
    )
    campaign_id: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    ai_interest_value: float | None = Field(default=None, description="Accepted and ignored.")
    disable_auto_interest: bool | None = Field(default=None, description="Accepted and ignored.")


class UpdateInterestStatusAccepted(WireModel):
    message: str
    job_id: uuid.UUID
