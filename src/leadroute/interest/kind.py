"""The ``update-interest-status`` job kind: set one email's interest status in one statement."""

import uuid
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from leadroute.ids import utcnow
from leadroute.jobs.kinds import ChunkOutcome
from leadroute.jobs.models import BackgroundJob
from leadroute.leads.models import Lead

UPDATE_INTEREST_STATUS = "update-interest-status"


class UpdateInterestStatusKind:
    type = UPDATE_INTEREST_STATUS

    def run_chunk(self, session: Session, job: BackgroundJob) -> ChunkOutcome:
        state: dict[str, Any] = dict(job.state)
        data: dict[str, Any] = dict(job.data)
        statement = update(Lead).where(
            Lead.workspace_id == job.workspace_id,
            func.lower(Lead.email) == state["lead_email"].lower(),
        )
        if state.get("campaign_id"):
            statement = statement.where(Lead.campaign == uuid.UUID(state["campaign_id"]))
        if state.get("list_id"):
            statement = statement.where(Lead.list_id == uuid.UUID(state["list_id"]))
        now = utcnow()
        result = session.execute(
            statement.values(
                lt_interest_status=state["interest_value"],
                timestamp_last_interest_change=now,
                timestamp_updated=now,
            ).execution_options(synchronize_session=False)
        )
        data["updated_count"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        data["success_count"] = data["updated_count"]
        return ChunkOutcome(data=data, state=state, progress=100, finished=True)
