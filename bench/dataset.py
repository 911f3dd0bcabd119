"""The benchmark workspace: N leads written by one ``INSERT ... SELECT`` per engine.

Leads get UUIDv7-shaped ids in ascending order (1 ms apart, in the past), so id order is
insertion order exactly as with :func:`leadroute.ids.new_id`. Every tenth lead's pattern
repeats: leads ``i % 10 < 3`` were contacted (``timestamp_last_contact`` set), so
``filter: FILTER_VAL_CONTACTED`` selects 30% of them. Last names come from a pool of
``SURNAMES`` x 40 suffixes, so one surname (``SEARCH_TERM``) matches about 1 lead in 500.
Each workspace has ``USERS`` members besides its owner; assignments cycle through disjoint
triples of them, so every measured assignment changes the owner of every lead it selects.
"""

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from leadroute.members.models import User, WorkspaceMember
from leadroute.workspaces.service import create_workspace

USERS = 12
CONTACTED_FILTER = "FILTER_VAL_CONTACTED"
SURNAMES = [
    "smith", "jones", "taylor", "brown", "wilson", "evans", "thomas", "roberts",
    "walker", "wright", "robinson", "thompson", "white", "hughes", "edwards", "green",
    "hall", "wood", "harris", "lewis", "martin", "jackson", "clarke", "clark",
    "turner", "hill", "scott", "cooper", "morris", "ward", "moore", "king",
    "watson", "baker", "harrison", "morgan", "patel", "young", "allen", "mitchell",
    "james", "anderson", "phillips", "lee", "bell", "parker", "davis", "kowalski",
    "novak", "garcia",
]  # fmt: skip
FIRST_NAMES = ["anna", "ben", "carla", "dan", "eva", "finn", "gina", "hugo", "iris", "jon"]
# 50 surnames x 10 suffix letters: "novakc" is 1 surname-suffix pair of 500.
SEARCH_TERM = "novakc"


@dataclass
class BenchWorkspace:
    workspace_id: uuid.UUID
    owner_user_id: uuid.UUID
    api_key: str
    user_ids: list[uuid.UUID]
    lead_count: int
    first_lead_id: uuid.UUID | None = None
    sample_lead_ids: list[uuid.UUID] = field(default_factory=list)
    _next_triple: int = 0

    def next_triple(self) -> list[uuid.UUID]:
        """Three users none of whom owns a lead now: every selected lead changes owner."""
        start = (self._next_triple * 3) % len(self.user_ids)
        self._next_triple += 1
        return self.user_ids[start : start + 3]


def create_bench_workspace(engine: Engine, name: str) -> BenchWorkspace:
    with Session(engine) as session, session.begin():
        created = create_workspace(session, name=name, owner_email=f"owner@{name}.bench")
        users = []
        for number in range(USERS):
            user = User(email=f"user{number}@{name}.bench")
            session.add(user)
            session.flush()
            session.add(
                WorkspaceMember(workspace_id=created.workspace_id, user_id=user.id, role="editor")
            )
            users.append(user.id)
    return BenchWorkspace(
        workspace_id=created.workspace_id,
        owner_user_id=created.owner_user_id,
        api_key=created.api_key,
        user_ids=users,
        lead_count=0,
    )


def insert_leads(engine: Engine, workspace: BenchWorkspace, count: int, *, salt: int = 0) -> float:
    """Insert ``count`` leads with one statement; seconds taken.

    ``salt`` keeps ids of several workspaces' leads apart (their 12-hex-digit tails differ).
    """
    started = time.perf_counter()
    now = datetime.now(UTC)
    # Ids 1 ms apart, ending an hour ago: older than any id the API generates from now on.
    base_ms = int((now - timedelta(hours=1)).timestamp() * 1000) - count
    params = {
        "workspace": workspace.workspace_id,
        "count": count,
        "base_ms": base_ms,
        "salt": salt << 36,
    }
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(_POSTGRES_INSERT), params)
        else:
            params["workspace"] = workspace.workspace_id.hex
            params["now"] = now.replace(tzinfo=None).isoformat(sep=" ")
            params["contacted"] = (now - timedelta(days=3)).replace(tzinfo=None).isoformat(sep=" ")
            connection.execute(text(_SQLITE_INSERT), params)
    workspace.lead_count += count
    return time.perf_counter() - started


_FIRST = ", ".join(f"'{name}'" for name in FIRST_NAMES)
_SUR = ", ".join(f"'{name}'" for name in SURNAMES)

_POSTGRES_INSERT = f"""
INSERT INTO leads (
    id, workspace_id, status, email, first_name, last_name, company_name, job_title,
    website, phone, personalization, email_open_count, email_reply_count, email_click_count,
    company_domain, status_summary, upload_method, timestamp_last_contact,
    timestamp_created, timestamp_updated
)
SELECT
    (lpad(to_hex(:base_ms + i), 12, '0') || '70008000' || lpad(to_hex(:salt + i), 12, '0'))::uuid,
    :workspace,
    1,
    'lead' || i || '@example' || (i % 997) || '.test',
    (array[{_FIRST}])[1 + i % {len(FIRST_NAMES)}],
    (array[{_SUR}])[1 + (i / 10) % {len(SURNAMES)}]
        || chr(97 + (i / {10 * len(SURNAMES)}) % 10),
    'Company ' || (i % 5000),
    'Head of growth',
    'https://example' || (i % 997) || '.test',
    '+1 555 ' || lpad((i % 10000)::text, 4, '0'),
    'Saw your talk on lead routing at the ' || (i % 50) || 'th meetup',
    i % 4, CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, 0,
    'example' || (i % 997) || '.test',
    '{{}}'::jsonb,
    'api',
    CASE WHEN i % 10 < 3 THEN now() - interval '3 days' END,
    now(), now()
FROM generate_series(0, :count - 1) AS i
"""

_SQLITE_INSERT = f"""
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count - 1)
INSERT INTO leads (
    id, workspace_id, status, email, first_name, last_name, company_name, job_title,
    website, phone, personalization, email_open_count, email_reply_count, email_click_count,
    company_domain, status_summary, upload_method, timestamp_last_contact,
    timestamp_created, timestamp_updated
)
SELECT
    printf('%012x70008000%012x', :base_ms + i, :salt + i),
    :workspace,
    1,
    'lead' || i || '@example' || (i % 997) || '.test',
    json_extract(json_array({_FIRST}), '$[' || (i % {len(FIRST_NAMES)}) || ']'),
    json_extract(json_array({_SUR}), '$[' || ((i / 10) % {len(SURNAMES)}) || ']')
        || char(97 + (i / {10 * len(SURNAMES)}) % 10),
    'Company ' || (i % 5000),
    'Head of growth',
    'https://example' || (i % 997) || '.test',
    '+1 555 ' || printf('%04d', i % 10000),
    'Saw your talk on lead routing at the ' || (i % 50) || 'th meetup',
    i % 4, CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, 0,
    'example' || (i % 997) || '.test',
    '{{}}',
    'api',
    CASE WHEN i % 10 < 3 THEN :contacted END,
    :now, :now
FROM n
"""


def sample_lead_ids(engine: Engine, workspace: BenchWorkspace, count: int) -> list[uuid.UUID]:
    """``count`` lead ids spread evenly over the workspace, for single-lead reads."""
    step = max(workspace.lead_count // max(count, 1), 1)
    with Session(engine) as session:
        rows = session.execute(
            text(
                "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM leads "
                "WHERE workspace_id = :ws) AS numbered WHERE (n - 1) % :step = 0"
            ),
            {"ws": _param(engine, workspace.workspace_id), "step": step},
        ).scalars()
        return [uuid.UUID(str(value)) for value in rows][:count]


def _param(engine: Engine, value: uuid.UUID) -> object:
    return value if engine.dialect.name == "postgresql" else value.hex
