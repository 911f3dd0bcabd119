"""Scale-out on PostgreSQL: 20 jobs over 10 workspaces with 1 and with 2 worker processes.

Each workspace gets its own leads and two bulk-assign jobs (which run one after the other:
a workspace's assignment jobs form a serial queue); jobs of different workspaces may run in
parallel. Jobs per minute is 20 divided by the time from the first request to the last
job's ``success``.
"""

import time
from contextlib import ExitStack
from typing import Any

from bench.assign import FINISHED
from bench.common import Target, maintain
from bench.dataset import BenchWorkspace, create_bench_workspace, insert_leads
from bench.processes import Server, running_worker

WORKSPACES = 10
JOBS_PER_WORKSPACE = 2


def build(target: Target, leads_per_workspace: int) -> list[BenchWorkspace]:
    engine = target.engine()
    workspaces = []
    for number in range(WORKSPACES):
        workspace = create_bench_workspace(engine, f"scale{number}")
        insert_leads(engine, workspace, leads_per_workspace, salt=number + 1)
        workspaces.append(workspace)
    maintain(engine)
    engine.dispose()
    return workspaces


def run_round(
    target: Target, server: Server, workspaces: list[BenchWorkspace], workers: int
) -> dict[str, Any]:
    with ExitStack() as stack:
        for number in range(workers):
            stack.enter_context(running_worker(target, f"scale-{workers}-{number}"))
        clients = [stack.enter_context(server.client(ws.api_key)) for ws in workspaces]
        started = time.perf_counter()
        jobs: list[tuple[Any, str]] = []
        for _ in range(JOBS_PER_WORKSPACE):
            for workspace, client in zip(workspaces, clients, strict=True):
                body = {"organization_user_ids": [str(user) for user in workspace.next_triple()]}
                response = client.post("/api/v2/leads/bulk-assign", json=body)
                if response.status_code != 202:
                    raise RuntimeError(f"bulk-assign answered {response.status_code}")
                jobs.append((client, response.json()["job_id"]))
        pending = list(jobs)
        while pending:
            still = []
            for client, job_id in pending:
                job = client.get(f"/api/v2/background-jobs/{job_id}").json()
                if job["status"] not in FINISHED:
                    still.append((client, job_id))
                elif job["status"] != "success":
                    raise RuntimeError(f"job {job_id} ended {job['status']}")
            pending = still
            if pending:
                time.sleep(0.1)
        elapsed = time.perf_counter() - started
    return {
        "workers": workers,
        "jobs": len(jobs),
        "seconds": round(elapsed, 2),
        "jobs_per_minute": round(len(jobs) / elapsed * 60, 1),
    }


def measure_scaleout(
    target: Target, server: Server, *, leads_per_workspace: int, log: Any
) -> dict[str, Any]:
    workspaces = build(target, leads_per_workspace)
    rounds = []
    for workers in (1, 2):
        maintain(target.engine())
        result = run_round(target, server, workspaces, workers)
        log(
            f"  scale-out, {workers} worker process(es): {result['jobs']} jobs in "
            f"{result['seconds']} s = {result['jobs_per_minute']} jobs/min"
        )
        rounds.append(result)
    return {
        "workspaces": WORKSPACES,
        "leads_per_workspace": leads_per_workspace,
        "rounds": rounds,
        "speedup": round(rounds[1]["jobs_per_minute"] / rounds[0]["jobs_per_minute"], 2),
    }
