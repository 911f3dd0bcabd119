"""Where a job's time goes: the real worker loop in this process, every statement timed.

The job is accepted over HTTP (no worker process runs), then run here with
:func:`leadroute.jobs.worker.run_until_idle`, the loop ``leadroute worker`` runs. Statement
and commit times come from SQLAlchemy's cursor events; "python" is what is left of the wall
time (ORM, JSON, pydantic, the engine's bookkeeping). On PostgreSQL the first chunk
statement is also run under ``EXPLAIN (ANALYZE, BUFFERS)`` inside a savepoint that is rolled
back, so the plan shows what the database spends per chunk.
"""

import re
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import event

from bench.common import Target, maintain
from bench.dataset import BenchWorkspace
from bench.processes import Server
from leadroute.db.engine import create_db_engine
from leadroute.db.session import Database
from leadroute.job_kinds import job_registry
from leadroute.jobs.worker import run_until_idle

CHUNK_STATEMENT = re.compile(r"^\s*(WITH targets|INSERT INTO leadroute_assign_chunk)")


def statement_kind(statement: str) -> str:
    words = " ".join(statement.split())
    for prefix, kind in (
        ("WITH targets", "chunk: number + UPDATE + history (one statement)"),
        ("INSERT INTO leadroute_assign_chunk", "chunk: number into scratch table"),
        ("INSERT INTO assignment_batches", "chunk: history row"),
        ("UPDATE leads SET", "chunk: UPDATE leads"),
        ("DELETE FROM leadroute_assign_chunk", "chunk: clear scratch table"),
        ("SELECT count(*) AS count_1, min(leadroute", "chunk: bounds"),
        ("SELECT count(*) AS count_1 FROM (SELECT leads.id", "job start: count taking part"),
        ("UPDATE background_jobs SET lease_expires_at", "engine: lease renewal (fence)"),
        ("UPDATE background_jobs SET data", "engine: progress + cursor"),
        ("SELECT assignment_rotations", "chunk: rotation (per-user counts)"),
    ):
        if words.startswith(prefix):
            return kind
    return "other: " + words[:60]


def profile_job(
    target: Target,
    server: Server,
    workspace: BenchWorkspace,
    *,
    leads: int,
    chunk_size: int,
    log: Any,
) -> dict[str, Any]:
    settings = target.settings(job_chunk_size=chunk_size)
    database = Database(create_db_engine(settings))
    maintain(database.engine)
    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    explain: list[str] = []
    commits_started: list[float] = []
    explain_seconds: list[float] = []  # not part of the job: taken out of its wall time

    @event.listens_for(database.engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if target.is_postgresql and not explain and CHUNK_STATEMENT.match(statement):
            explain_started = time.perf_counter()
            cursor.execute("SAVEPOINT bench_explain")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            explain.extend(row[0] for row in cursor.fetchall())
            cursor.execute("ROLLBACK TO SAVEPOINT bench_explain")
            explain_seconds.append(time.perf_counter() - explain_started)
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(database.engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        kind = statement_kind(statement)
        seconds[kind] += time.perf_counter() - conn.info.pop("bench_started")
        counts[kind] += 1

    @event.listens_for(database.engine, "commit")
    def committing(conn: Any) -> None:
        conn.info["bench_commit"] = time.perf_counter()
        commits_started.append(conn.info["bench_commit"])

    @event.listens_for(database.write_sessions, "after_commit")
    def committed(session: Any) -> None:
        if commits_started:
            seconds["COMMIT"] += time.perf_counter() - commits_started.pop()
            counts["COMMIT"] += 1

    body = {
        "organization_user_ids": [str(user) for user in workspace.next_triple()],
        "limit": leads,
    }
    with server.client(workspace.api_key) as client:
        response = client.post("/api/v2/leads/bulk-assign", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"bulk-assign answered {response.status_code}")
        job_id = response.json()["job_id"]
        started = time.perf_counter()
        chunks = run_until_idle(database, job_registry(settings), settings)
        wall = time.perf_counter() - started - sum(explain_seconds)
        job = client.get(f"/api/v2/background-jobs/{job_id}").json()
    database.dispose()
    if job["status"] != "success":
        raise RuntimeError(f"profiled job ended {job['status']}")
    sql_total = sum(seconds.values())
    breakdown = [
        {"what": kind, "statements": counts[kind], "seconds": round(value, 3)}
        for kind, value in sorted(seconds.items(), key=lambda item: -item[1])
    ]
    result = {
        "leads": leads,
        "chunk_size": chunk_size,
        "chunks": chunks,
        "wall_seconds": round(wall, 3),
        "sql_seconds": round(sql_total, 3),
        "outside_sql_seconds": round(wall - sql_total, 3),
        "note": "COMMIT is counted in sql_seconds; outside_sql_seconds is Python",
        "breakdown": breakdown,
        "explain_first_chunk": explain,
    }
    log(
        f"  profile of a {leads}-lead job: {wall:.2f} s wall, {sql_total:.2f} s in statements, "
        f"{wall - sql_total:.2f} s outside (python)"
    )
    return result
