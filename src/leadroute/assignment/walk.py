"""Where a chunked job over selected leads stands, kept in the job's private state.

Assignment and move walk the same way: the selected leads that existed at acceptance (id at
most the high-water mark), in id order, after the cursor of the last committed chunk,
``position`` of them taken part so far, at most ``limit`` in all. The selection is counted
once, at the first chunk, for progress.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from leadroute.assignment import sql


@dataclass
class LeadWalk:
    selection: ColumnElement[bool]
    high_water_mark: uuid.UUID | None
    cursor: uuid.UUID | None
    position: int
    limit: int | None

    @classmethod
    def from_state(cls, state: dict[str, Any], selection: ColumnElement[bool]) -> "LeadWalk":
        return cls(
            selection=selection,
            high_water_mark=_uuid_or_none(state.get("high_water_mark")),
            cursor=_uuid_or_none(state.get("cursor")),
            position=int(state["position"]),
            limit=state.get("limit"),
        )

    @property
    def exhausted(self) -> bool:
        """No lead existed at acceptance, or the limit is reached."""
        return self.high_water_mark is None or (
            self.limit is not None and self.position >= self.limit
        )

    def count_once(self, session: Session, state: dict[str, Any], data: dict[str, Any]) -> None:
        """Set ``data.total_to_process`` at the first chunk (progress is measured against it)."""
        if state.get("counted") or self.high_water_mark is None:
            return
        everything = sql.taking_part(
            self.selection, high_water_mark=self.high_water_mark, cursor=None
        )
        data["total_to_process"] = sql.count_taking_part(session, everything, self.limit)
        state["counted"] = True

    def next_chunk_size(self, chunk_size: int) -> int:
        return chunk_size if self.limit is None else min(chunk_size, self.limit - self.position)

    def remaining_leads(self) -> ColumnElement[bool]:
        """The leads not walked yet (the limit aside)."""
        assert self.high_water_mark is not None
        return sql.taking_part(
            self.selection, high_water_mark=self.high_water_mark, cursor=self.cursor
        )

    def advance(self, state: dict[str, Any], size: int, last_lead_id: uuid.UUID) -> None:
        """Record a chunk of ``size`` leads ending at ``last_lead_id`` (committed with it)."""
        self.position += size
        self.cursor = last_lead_id
        state["position"] = self.position
        state["cursor"] = str(last_lead_id)

    def progress(self, data: dict[str, Any]) -> int:
        """Percent done, below 100 until the job finishes."""
        total = max(int(data.get("total_to_process", 0)), 1)
        return min(99, self.position * 100 // total)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
