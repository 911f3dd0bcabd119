"""The floor: one hand-written statement doing the job's round robin on the same leads.

Lead ``i`` (0-based, id order, at or below the high-water mark, in the selection) goes to
``users[i % 3]``; a lead that already has its target keeps its row untouched, as the job does.
This is what the database itself needs to do the work, with no chunks, no history, no job
bookkeeping and no HTTP: the number leadroute's own time is divided by.
"""

import time
import uuid

from sqlalchemy import Engine, text

# The filter the benchmark's "30%" selection uses (``FILTER_VAL_CONTACTED``).
FILTER_SQL = "timestamp_last_contact IS NOT NULL"

_POSTGRES = """
WITH numbered AS (
    SELECT id, (row_number() OVER (ORDER BY id) - 1) % {period} AS slot
    FROM leads
    WHERE workspace_id = :workspace AND id <= :high_water_mark {extra}
), targets AS (
    SELECT numbered.id, (:users ::uuid[])[numbered.slot + 1] AS target FROM numbered
)
UPDATE leads SET assigned_to = targets.target, timestamp_updated = now()
FROM targets
WHERE leads.id = targets.id AND leads.assigned_to IS DISTINCT FROM targets.target
"""

_SQLITE = """
WITH numbered AS (
    SELECT id, (row_number() OVER (ORDER BY id) - 1) % {period} AS slot
    FROM leads
    WHERE workspace_id = :workspace AND id <= :high_water_mark {extra}
), targets AS (
    SELECT numbered.id, json_extract(:users, '$[' || numbered.slot || ']') AS target
    FROM numbered
)
UPDATE leads SET assigned_to = targets.target, timestamp_updated = :now
FROM targets
WHERE leads.id = targets.id AND leads.assigned_to IS NOT targets.target
"""


def run_floor(
    engine: Engine,
    workspace_id: uuid.UUID,
    users: list[uuid.UUID],
    *,
    filtered: bool,
) -> tuple[float, int]:
    """Seconds and rows changed for the one-statement assignment, committed."""
    extra = f"AND {FILTER_SQL}" if filtered else ""
    postgres = engine.dialect.name == "postgresql"
    template = _POSTGRES if postgres else _SQLITE
    statement = text(template.format(period=len(users), extra=extra))
    if postgres:
        params: dict[str, object] = {
            "workspace": workspace_id,
            "high_water_mark": uuid.UUID(int=(1 << 128) - 1),
            "users": [str(user) for user in users],
        }
    else:
        import json
        from datetime import UTC, datetime

        params = {
            "workspace": workspace_id.hex,
            "high_water_mark": "f" * 32,
            "users": json.dumps([user.hex for user in users]),
            "now": datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
        }
    started = time.perf_counter()
    with engine.begin() as connection:
        result = connection.execute(statement, params)
        changed = int(result.rowcount or 0)
    return time.perf_counter() - started, changed
