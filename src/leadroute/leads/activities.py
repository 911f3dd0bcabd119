"""Lead activities [extension]: a sending engine's events, applied to the engagement fields.

Each type moves only its own fields:

- ``sent``: ``timestamp_last_contact`` and ``timestamp_last_touch``;
- ``opened`` / ``replied`` / ``clicked``: its counter + 1, its ``timestamp_last_*`` and its
  ``email_*_step`` / ``email_*_variant``;
- ``bounced``, ``unsubscribed``, ``completed``, ``skipped``: ``status`` -1, -2, 3, -3;
- ``verification``: ``verification_status`` from ``result``.

Decisions where the spec is silent:

- The whole batch is validated before anything is written; one bad item is a 400 naming it
  and nothing is applied.
- An activity naming no lead of the workspace (a deleted lead, an unknown email) is skipped,
  not an error: a sending engine's batch must not fail because one lead is gone. It is not
  counted in ``applied``, which counts the activities that found at least one lead.
- ``email`` is matched case-insensitively and applies to every lead of the workspace with
  that address (the same person in several campaigns or lists).
- Timestamps only move forward: a ``timestamp_last_*`` becomes the later of the stored and
  the given one, and a step/variant is taken from an event at least as recent as the stored
  timestamp. Counters count every event (there is no event id to deduplicate on).
- Within a batch, the latest status event (by timestamp, then by position) sets ``status``,
  and the latest verification sets ``verification_status``.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Update,
    and_,
    bindparam,
    case,
    func,
    or_,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from leadroute.ids import utcnow
from leadroute.leads.models import Lead
from leadroute.leads.repository import LeadRepository
from leadroute.leads.schemas import LeadActivity

STATUS_BY_TYPE = {"bounced": -1, "unsubscribed": -2, "completed": 3, "skipped": -3}
VERIFICATION_BY_RESULT = {"valid": 1, "invalid": -1, "risky": -2, "catch_all": -3, "pending": 11}
# Types that count: counter, last timestamp, step, variant.
COUNTED = {
    "opened": (
        "email_open_count",
        "timestamp_last_open",
        "email_opened_step",
        "email_opened_variant",
    ),
    "replied": (
        "email_reply_count",
        "timestamp_last_reply",
        "email_replied_step",
        "email_replied_variant",
    ),
    "clicked": (
        "email_click_count",
        "timestamp_last_click",
        "email_clicked_step",
        "email_clicked_variant",
    ),
}


@dataclass
class Latest:
    """The most recent event of one kind for one lead, within the batch."""

    timestamp: datetime
    value: Any = None
    step: int | None = None
    variant: int | None = None

    def replaced_by(self, timestamp: datetime) -> bool:
        # Ties go to the later event of the batch.
        return timestamp >= self.timestamp


@dataclass
class Engagement:
    """Everything one batch does to one lead."""

    counts: dict[str, int] = field(default_factory=dict)
    latest: dict[str, Latest] = field(default_factory=dict)

    def add(self, activity: LeadActivity) -> None:
        kind: str = activity.type
        value: Any = None
        if kind in COUNTED:
            self.counts[kind] = self.counts.get(kind, 0) + 1
        elif kind in STATUS_BY_TYPE:
            kind, value = "status", STATUS_BY_TYPE[kind]
        elif kind == "verification":
            assert activity.result is not None  # the schema requires it
            value = VERIFICATION_BY_RESULT[activity.result]
        current = self.latest.get(kind)
        if current is None or current.replaced_by(activity.timestamp):
            self.latest[kind] = Latest(activity.timestamp, value, activity.step, activity.variant)

    def parameters(self, lead_id: uuid.UUID) -> dict[str, Any]:
        """The bound values of :func:`engagement_update` for this lead."""
        params: dict[str, Any] = {"b_lead_id": lead_id}
        for kind in ("sent", *COUNTED):
            latest = self.latest.get(kind)
            params[f"b_{kind}_at"] = latest.timestamp if latest else None
        for kind in COUNTED:
            latest = self.latest.get(kind)
            params[f"b_{kind}_count"] = self.counts.get(kind, 0)
            params[f"b_{kind}_step"] = latest.step if latest else None
            params[f"b_{kind}_variant"] = latest.variant if latest else None
        for kind in ("status", "verification"):
            latest = self.latest.get(kind)
            params[f"b_{kind}"] = latest.value if latest else None
        return params


def _param(name: str, column: InstrumentedAttribute[Any]) -> BindParameter[Any]:
    return bindparam(name, type_=column.type)


def _is_newer(
    column: InstrumentedAttribute[Any], moment: BindParameter[Any]
) -> ColumnElement[bool]:
    """The event's moment is given and not older than the stored one."""
    return and_(moment.is_not(None), or_(column.is_(None), column <= moment))


def _latest(column: InstrumentedAttribute[Any], moment: BindParameter[Any]) -> ColumnElement[Any]:
    return case((_is_newer(column, moment), moment), else_=column)


def engagement_update(workspace_id: uuid.UUID, now: datetime) -> Update:
    """One UPDATE, executed once per lead with that lead's parameters (an executemany).

    Every SET reads the row as the database holds it when the row is written (counters add,
    timestamps take the later one), so concurrent batches and other writers lose nothing;
    columns no activity touches (``assigned_to``, names, ...) are not in the SET at all.
    """
    sent_at = _param("b_sent_at", Lead.timestamp_last_contact)
    values: dict[str, Any] = {
        "timestamp_last_contact": _latest(Lead.timestamp_last_contact, sent_at),
        "timestamp_last_touch": _latest(Lead.timestamp_last_touch, sent_at),
        "status": func.coalesce(_param("b_status", Lead.status), Lead.status),
        "verification_status": func.coalesce(
            _param("b_verification", Lead.verification_status), Lead.verification_status
        ),
        "timestamp_updated": now,
    }
    for kind, (counter, stamp, step, variant) in COUNTED.items():
        moment = _param(f"b_{kind}_at", getattr(Lead, stamp))
        newer = _is_newer(getattr(Lead, stamp), moment)
        values[counter] = getattr(Lead, counter) + _param(f"b_{kind}_count", getattr(Lead, counter))
        values[stamp] = _latest(getattr(Lead, stamp), moment)
        for column, suffix in ((step, "step"), (variant, "variant")):
            given = _param(f"b_{kind}_{suffix}", getattr(Lead, column))
            values[column] = case(
                (newer, func.coalesce(given, getattr(Lead, column))), else_=getattr(Lead, column)
            )
    return (
        update(Lead)
        .where(
            Lead.workspace_id == workspace_id,
            Lead.id == bindparam("b_lead_id", type_=Lead.id.type),
        )
        .values(values)
    )


class ActivityService:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.leads = LeadRepository(session, workspace_id)
        self.workspace_id = workspace_id

    def apply(self, activities: Sequence[LeadActivity]) -> int:
        """Applies the batch; answers how many activities found a lead."""
        targets = self._resolve(activities)
        engagement: dict[uuid.UUID, Engagement] = {}
        applied = 0
        for activity, lead_ids in zip(activities, targets, strict=True):
            applied += bool(lead_ids)
            for lead_id in lead_ids:
                engagement.setdefault(lead_id, Engagement()).add(activity)
        if engagement:
            # In id order, so two batches touching the same leads lock them in the same order.
            self.session.connection().execute(
                engagement_update(self.workspace_id, utcnow()),
                [events.parameters(lead_id) for lead_id, events in sorted(engagement.items())],
            )
        return applied

    def _resolve(self, activities: Sequence[LeadActivity]) -> list[list[uuid.UUID]]:
        """The leads each activity names: two queries for the whole batch."""
        known = self.leads.ids_of(a.lead_id for a in activities if a.lead_id is not None)
        by_email = self.leads.ids_by_email(a.email for a in activities if a.email is not None)
        targets: list[list[uuid.UUID]] = []
        for activity in activities:
            if activity.lead_id is not None:
                targets.append([activity.lead_id] if activity.lead_id in known else [])
            else:
                targets.append(by_email.get(activity.email or "", []))
        return targets
