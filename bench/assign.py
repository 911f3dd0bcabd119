"""Bulk-assign of every lead and of a 30% filter: floor, leadroute, naive ORM loop.

For each selection, in this order on the same database: the floor, leadroute (HTTP request
to the job's ``success``, with a fresh ``leadroute worker`` process whose peak RSS is
recorded), the floor again, then the naive loop on a prefix of the selection. The floor is
the mean of its two runs, taken before and after leadroute, so a drift of the machine's load
during the measurement moves both sides of the ratio. Each run assigns to three users who
own none of the selected leads, so every run changes every lead it selects, and the
database is vacuumed/checkpointed before each run (see ``common.maintain``).
"""

import time
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

import leadroute.models  # noqa: F401 - every mapped table, for the ORM loop's flush
from bench.common import Target, maintain
from bench.dataset import CONTACTED_FILTER, BenchWorkspace
from bench.floor import run_floor
from bench.processes import Server, running_worker
from leadroute.ids import utcnow
from leadroute.leads.models import Lead

FINISHED = ("success", "failed", "cancelled")
NAIVE_PAGE = 1000


def run_job(
    client: httpx.Client, body: dict[str, Any], *, poll_seconds: float = 0.05
) -> dict[str, Any]:
    """POST bulk-assign and poll the job until it finishes; seconds from request to end."""
    started = time.perf_counter()
    response = client.post("/api/v2/leads/bulk-assign", json=body)
    if response.status_code != 202:
        raise RuntimeError(f"bulk-assign answered {response.status_code}: {response.text}")
    accepted = time.perf_counter() - started
    job_id = response.json()["job_id"]
    while True:
        job = client.get(f"/api/v2/background-jobs/{job_id}").json()
        if job["status"] in FINISHED:
            break
        time.sleep(poll_seconds)
    elapsed = time.perf_counter() - started
    if job["status"] != "success":
        raise RuntimeError(f"job {job_id} ended {job['status']}: {job['data']}")
    return {"seconds": elapsed, "accept_seconds": accepted, "job": job}


def run_naive(
    target: Target,
    workspace: BenchWorkspace,
    users: list[uuid.UUID],
    *,
    filtered: bool,
    max_leads: int,
) -> tuple[float, int]:
    """A typical CRUD loop: pages of 1,000 ORM objects, ``assigned_to`` set on each.

    One transaction per page; seconds taken and leads assigned (at most ``max_leads``).
    """
    engine = target.engine()
    done = 0
    cursor: uuid.UUID | None = None
    started = time.perf_counter()
    while done < max_leads:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            query = select(Lead).where(Lead.workspace_id == workspace.workspace_id)
            if filtered:
                query = query.where(Lead.timestamp_last_contact.is_not(None))
            if cursor is not None:
                query = query.where(Lead.id > cursor)
            page = session.scalars(
                query.order_by(Lead.id).limit(min(NAIVE_PAGE, max_leads - done))
            ).all()
            if not page:
                break
            for lead in page:
                lead.assigned_to = users[done % len(users)]
                lead.timestamp_updated = utcnow()
                done += 1
            cursor = page[-1].id
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, done


def measure_selection(
    target: Target,
    server: Server,
    workspace: BenchWorkspace,
    *,
    filtered: bool,
    naive_leads: int,
    log: Any,
) -> dict[str, Any]:
    engine = target.engine()
    label = "filter 30%" if filtered else "all leads"
    selected = workspace.lead_count * 3 // 10 if filtered else workspace.lead_count
    result: dict[str, Any] = {"selection": label, "selected_leads": selected}

    maintain(engine)
    first_floor, changed = run_floor(
        engine, workspace.workspace_id, workspace.next_triple(), filtered=filtered
    )
    log(f"  floor {label}: {first_floor:.2f} s")

    maintain(engine)
    body: dict[str, Any] = {
        "organization_user_ids": [str(user) for user in workspace.next_triple()]
    }
    if filtered:
        body["filter"] = CONTACTED_FILTER
    with (
        running_worker(target, f"assign-{'filter' if filtered else 'all'}") as worker,
        server.client(workspace.api_key) as client,
    ):
        run = run_job(client, body)
        peak_rss = worker.peak_rss_mib()
    job = run["job"]
    if job["data"]["success_count"] != selected:
        raise RuntimeError(f"the job took {job['data']['success_count']} leads, not {selected}")
    log(f"  leadroute {label}: {run['seconds']:.2f} s (worker peak RSS {peak_rss} MiB)")

    maintain(engine)
    second_floor, _ = run_floor(
        engine, workspace.workspace_id, workspace.next_triple(), filtered=filtered
    )
    log(f"  floor again {label}: {second_floor:.2f} s")
    floor = (first_floor + second_floor) / 2

    maintain(engine)
    naive_seconds, naive_done = run_naive(
        target, workspace, workspace.next_triple(), filtered=filtered, max_leads=naive_leads
    )
    naive_extrapolated = naive_seconds * selected / max(naive_done, 1)
    log(
        f"  naive {label}: {naive_seconds:.2f} s for {naive_done} leads, "
        f"{naive_extrapolated:.1f} s extrapolated"
    )
    engine.dispose()
    result.update(
        {
            "floor_seconds": [round(first_floor, 3), round(second_floor, 3)],
            "floor_mean_seconds": round(floor, 3),
            "leadroute_seconds": round(run["seconds"], 3),
            "leadroute_accept_seconds": round(run["accept_seconds"], 4),
            "leadroute_job": {
                "created_at": job["created_at"],
                "finished_at": job["updated_at"],
                "success_count": job["data"]["success_count"],
                "unchanged_count": job["data"]["unchanged_count"],
            },
            "naive_measured_seconds": round(naive_seconds, 3),
            "naive_measured_leads": naive_done,
            "naive_extrapolated_seconds": round(naive_extrapolated, 2),
            "leadroute_over_floor": round(run["seconds"] / floor, 3),
            "naive_over_leadroute": round(naive_extrapolated / run["seconds"], 2),
            "worker_peak_rss_mib": peak_rss,
            "floor_rows_changed": changed,
        }
    )
    return result


def measure_worker_rss_at(
    target: Target, server: Server, workspace: BenchWorkspace, leads: int, log: Any
) -> dict[str, Any]:
    """Peak RSS of a fresh worker process whose only job assigns ``leads`` leads."""
    maintain(target.engine())
    body = {
        "organization_user_ids": [str(user) for user in workspace.next_triple()],
        "limit": leads,
    }
    with running_worker(target, f"rss-{leads}") as worker, server.client(workspace.api_key) as c:
        idle = worker.peak_rss_mib()
        run = run_job(c, body)
        peak = worker.peak_rss_mib()
    log(f"  worker RSS, {leads} leads: idle {idle} MiB, peak {peak} MiB")
    return {
        "leads": leads,
        "idle_rss_mib": idle,
        "peak_rss_mib": peak,
        "seconds": round(run["seconds"], 3),
    }
