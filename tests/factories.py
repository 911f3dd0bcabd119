"""Test data written straight to the database, in bulk, for tests that need many rows."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from leadroute.db.session import Database
from leadroute.ids import new_id, utcnow
from leadroute.leads.models import Lead


def insert_leads(
    db: Database, workspace_id: str | uuid.UUID, leads: Iterable[dict[str, Any]]
) -> list[str]:
    """Insert leads (dicts of Lead columns) in id order; returns their ids as strings."""
    now: datetime = utcnow()
    rows = []
    for fields in leads:
        row: dict[str, Any] = {
            "id": new_id(),
            "workspace_id": uuid.UUID(str(workspace_id)),
            "status": 1,
            "email_open_count": 0,
            "email_reply_count": 0,
            "email_click_count": 0,
            "company_domain": "",
            "status_summary": {},
            "upload_method": "api",
            "timestamp_created": now,
            "timestamp_updated": now,
        }
        row.update(fields)
        for key in ("campaign", "list_id", "assigned_to", "subsequence_id"):
            if isinstance(row.get(key), str):
                row[key] = uuid.UUID(row[key])
        rows.append(row)
    if rows:
        with db.write_sessions.begin() as session:
            for start in range(0, len(rows), 1000):
                session.execute(insert(Lead), rows[start : start + 1000])
    return [str(row["id"]) for row in rows]


def many_leads(count: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"email": f"lead{i}@example.test", **fields} for i in range(count)]
