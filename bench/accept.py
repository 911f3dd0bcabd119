"""Accepting bulk-assign requests: an open-loop load at a fixed rate, then closed-loop max.

No worker runs during this measurement: accepted jobs stay pending and are deleted after,
so the requests measured are exactly the acceptance path (validation, selection check,
high-water mark, rotation rows, job row, commit) under a raised rate limit.

The open-loop client sends request ``k`` at ``start + k / rate`` from a pool of threads and
measures each latency from that scheduled instant, so a server that falls behind shows up
in the percentiles (no coordinated omission) and the achieved rate drops below the offered.
Both loads send prepared requests through :class:`bench.load_client.LoadClient`, which
leaves the two cores to the server and the database; each reports the CPU the load
generator itself spent per request (``client_cpu_ms_per_request``).
"""

import functools
import resource
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select

from bench.common import Target, latency_summary
from bench.dataset import CONTACTED_FILTER, BenchWorkspace
from bench.load_client import LoadClient, LoadClientError, Request
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
    server_client: Callable[[], LoadClient],
    workspace: BenchWorkspace,
    *,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    total = int(rate * seconds)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = [0]
    # Every client is connected before the schedule starts, so the first requests do not
    # count a connection's set-up as the server's latency.
    clients = [server_client() for _ in range(THREADS)]
    for client in clients:
        client.send(client.request("GET", "/api/v2/workspaces/current"))
    start = time.perf_counter() + 0.2

    def run(client: LoadClient) -> None:
        request = client.request("POST", "/api/v2/leads/bulk-assign", accept_body(workspace))
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
                answer = client.send(request)
                ok = answer.status == 202
                error = f"{answer.status}: {answer.body[:120]!r}"
            except (OSError, LoadClientError) as failure:
                ok, error = False, repr(failure)
            finished = time.perf_counter()
            with lock:
                latencies.append(finished - scheduled)
                if not ok:
                    errors.append(error)

    spent = run_threads([functools.partial(run, client) for client in clients])
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
            "client_cpu_ms_per_request": round(spent * 1000 / max(len(latencies), 1), 3),
        }
    )
    return summary


def closed_loop(
    server_client: Callable[[], LoadClient],
    request: Callable[[LoadClient], Request],
    expected_status: int,
    *,
    seconds: float,
) -> dict[str, Any]:
    """``THREADS`` clients sending ``request`` back to back, each expecting its status."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run() -> None:
        with server_client() as client:
            prepared = request(client)
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    ok = client.send(prepared).status == expected_status
                except (OSError, LoadClientError):
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        errors[0] += 1

    started = time.perf_counter()
    spent = run_threads([run] * THREADS)
    elapsed = time.perf_counter() - started
    summary: dict[str, Any] = latency_summary(latencies)
    summary.update(
        {
            "throughput": round(len(latencies) / elapsed, 1),
            "errors": errors[0],
            "threads": THREADS,
            "client_cpu_ms_per_request": round(spent * 1000 / max(len(latencies), 1), 3),
        }
    )
    return summary


def run_threads(targets: list[Callable[[], None]]) -> float:
    """Run each target in a thread of its own until all have returned; the CPU seconds (user
    and system, all threads) this process spent meanwhile: the load generator's own cost."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = resource.getrusage(resource.RUSAGE_SELF)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


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
    def client() -> LoadClient:
        return LoadClient(server.base_url, workspace.api_key)

    def accept(http: LoadClient) -> Request:
        return http.request("POST", "/api/v2/leads/bulk-assign", accept_body(workspace))

    def workspace_read(http: LoadClient) -> Request:
        return http.request("GET", "/api/v2/workspaces/current")

    with client() as warm:  # warm the server's code paths and pools
        for _ in range(20):
            answer = warm.send(accept(warm))
            if answer.status != 202:
                raise RuntimeError(f"bulk-assign answered {answer.status}: {answer.body[:300]!r}")
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
        f"server CPU {offered['server_cpu_ms_per_request']} ms/request, "
        f"client CPU {offered['client_cpu_ms_per_request']} ms/request"
    )
    most = with_server_cpu(server, lambda: closed_loop(client, accept, 202, seconds=seconds / 2))
    log(
        f"  accept closed loop, {THREADS} threads: {most['throughput']}/s, "
        f"p99 {most['p99_ms']} ms, server CPU {most['server_cpu_ms_per_request']} ms/request"
    )
    # What any request costs the server: authenticate, one primary-key read, JSON.
    floor = with_server_cpu(
        server, lambda: closed_loop(client, workspace_read, 200, seconds=seconds / 2)
    )
    log(
        f"  GET /workspaces/current closed loop: {floor['throughput']}/s, "
        f"server CPU {floor['server_cpu_ms_per_request']} ms/request"
    )
    # One more closed loop, sampled: the sampler pauses the server, so not a measured one.
    with sampled(server.pid, seconds / 2) as profile:
        closed_loop(client, accept, 202, seconds=seconds / 2)
    most["profile"] = profile
    dropped = drop_pending_jobs(target, workspace)
    return {
        "open_loop": offered,
        "closed_loop": most,
        "framework_floor": floor,
        "jobs_dropped": dropped,
    }
