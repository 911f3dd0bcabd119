"""Accepting bulk-assign requests: an open-loop load at a fixed rate, then closed-loop max.

No worker runs during this measurement: accepted jobs stay pending and are deleted after,
so the requests measured are exactly the acceptance path (validation, selection check,
high-water mark, rotation rows, job row, commit) under a raised rate limit.

The open-loop client sends request ``k`` at ``start + k / rate`` from a pool of threads and
measures each latency from that scheduled instant, so a server that falls behind shows up
in the percentiles (no coordinated omission) and the achieved rate drops below the offered.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import delete, select

from bench.common import Target, latency_summary
from bench.dataset import CONTACTED_FILTER, BenchWorkspace
from bench.sampling import sampled
from leadroute.assignment.models import AssignmentRotation
from leadroute.jobs.models import BackgroundJob

THREADS = 12


def accept_body(workspace: BenchWorkspace) -> dict[str, Any]:
    return {
        "organization_user_ids": [str(user) for user in workspace.user_ids[:3]],
        "filter": CONTACTED_FILTER,
    }


def open_loop(
    server_client: Any, workspace: BenchWorkspace, *, rate: float, seconds: float
) -> dict[str, Any]:
    total = int(rate * seconds)
    body = accept_body(workspace)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = [0]
    # Every client is made and connected before the schedule starts: making 12 httpx
    # clients (an SSL context each) takes longer than the schedule's head start, and the
    # first requests would count the client's own start-up as the server's latency.
    clients = [server_client() for _ in range(THREADS)]
    for client in clients:
        client.get("/api/v2/workspaces/current")
    start = time.perf_counter() + 0.2

    def run(client: httpx.Client) -> None:
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= total:
                return
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                response = client.post("/api/v2/leads/bulk-assign", json=body)
                ok = response.status_code == 202
                error = f"{response.status_code}: {response.text[:120]}"
            except httpx.HTTPError as failure:
                ok, error = False, repr(failure)
            finished = time.perf_counter()
            with lock:
                latencies.append(finished - scheduled)
                if not ok:
                    errors.append(error)

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    elapsed = time.perf_counter() - start
    summary: dict[str, Any] = latency_summary(latencies)
    summary.update(
        {
            "offered_rate": rate,
            "achieved_rate": round(len(latencies) / elapsed, 1),
            "seconds": round(elapsed, 2),
            "errors": len(errors),
            "first_errors": errors[:3],
        }
    )
    return summary


def closed_loop(
    server_client: Any, send: Callable[[httpx.Client], bool], *, seconds: float
) -> dict[str, Any]:
    """``THREADS`` clients sending ``send`` back to back; ``send`` says if it succeeded."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run() -> None:
        with server_client() as client:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                ok = send(client)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    summary: dict[str, Any] = latency_summary(latencies)
    summary.update(
        {"throughput": round(len(latencies) / elapsed, 1), "errors": errors[0], "threads": THREADS}
    )
    return summary


def with_server_cpu(server: Any, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``measure()``'s summary plus the server's CPU per request while it ran."""
    cpu_before = server.cpu_seconds()
    summary = measure()
    summary["server_cpu_ms_per_request"] = round(
        (server.cpu_seconds() - cpu_before) * 1000 / max(summary["count"], 1), 2
    )
    return summary


def drop_pending_jobs(target: Target, workspace: BenchWorkspace) -> int:
    engine = target.engine()
    with engine.begin() as connection:
        pending = select(BackgroundJob.id).where(
            BackgroundJob.workspace_id == workspace.workspace_id,
            BackgroundJob.status == "pending",
        )
        connection.execute(delete(AssignmentRotation).where(AssignmentRotation.job_id.in_(pending)))
        result = connection.execute(
            delete(BackgroundJob).where(
                BackgroundJob.workspace_id == workspace.workspace_id,
                BackgroundJob.status == "pending",
            )
        )
    engine.dispose()
    return int(result.rowcount or 0)


def measure_accept(
    target: Target,
    server: Any,
    workspace: BenchWorkspace,
    *,
    rate: float,
    seconds: float,
    log: Any,
) -> dict[str, Any]:
    def client() -> httpx.Client:
        return server.client(workspace.api_key)  # type: ignore[no-any-return]

    with client() as warm:  # warm the server's code paths and pools
        for _ in range(20):
            warm.post("/api/v2/leads/bulk-assign", json=accept_body(workspace))
    cpu_before = server.cpu_seconds()
    offered = with_server_cpu(
        server, lambda: open_loop(client, workspace, rate=rate, seconds=seconds)
    )
    offered["server_cpu_share"] = round(
        (server.cpu_seconds() - cpu_before) / max(offered["seconds"], 1e-9), 2
    )
    log(
        f"  accept at {rate:.0f}/s offered: {offered['achieved_rate']}/s achieved, "
        f"p50 {offered['p50_ms']} ms, p99 {offered['p99_ms']} ms, errors {offered['errors']}, "
        f"server CPU {offered['server_cpu_ms_per_request']} ms/request"
    )
    body = accept_body(workspace)

    def accept_once(http: httpx.Client) -> bool:
        return http.post("/api/v2/leads/bulk-assign", json=body).status_code == 202

    most = with_server_cpu(server, lambda: closed_loop(client, accept_once, seconds=seconds / 2))
    log(
        f"  accept closed loop, {THREADS} threads: {most['throughput']}/s, "
        f"p99 {most['p99_ms']} ms, server CPU {most['server_cpu_ms_per_request']} ms/request"
    )
    # What any request costs the server: authenticate, one primary-key read, JSON.
    floor = with_server_cpu(
        server,
        lambda: closed_loop(
            client,
            lambda http: http.get("/api/v2/workspaces/current").status_code == 200,
            seconds=seconds / 2,
        ),
    )
    log(
        f"  GET /workspaces/current closed loop: {floor['throughput']}/s, "
        f"server CPU {floor['server_cpu_ms_per_request']} ms/request"
    )
    # One more closed loop, sampled: the sampler pauses the server, so not a measured one.
    with sampled(server.pid, seconds / 2) as profile:
        closed_loop(client, accept_once, seconds=seconds / 2)
    most["profile"] = profile
    dropped = drop_pending_jobs(target, workspace)
    return {
        "open_loop": offered,
        "closed_loop": most,
        "framework_floor": floor,
        "jobs_dropped": dropped,
    }
