"""API latency: reads while a 1M-lead job runs, and list/search pages on an idle server."""

import random
import threading
import time
from typing import Any

import httpx

from bench.assign import FINISHED
from bench.common import latency_summary
from bench.dataset import CONTACTED_FILTER, SEARCH_TERM, BenchWorkspace
from bench.processes import Server

PAGE = 100


def list_body(workspace: BenchWorkspace, rng: random.Random, **fields: Any) -> dict[str, Any]:
    """A page of 100 after a random lead (a client paging through the middle of the list)."""
    body: dict[str, Any] = {"limit": PAGE, **fields}
    if workspace.sample_lead_ids:
        body["starting_after"] = str(rng.choice(workspace.sample_lead_ids))
    return body


def timed(call: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response


def check(response: httpx.Response, what: str) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{what} answered {response.status_code}: {response.text[:300]}")


def during_job(
    client: httpx.Client,
    reader: httpx.Client,
    workspace: BenchWorkspace,
    *,
    pause_seconds: float = 0.01,
    log: Any,
) -> dict[str, Any]:
    """Start a job over every lead; while it is in progress, one client alternates
    ``GET /leads/{id}`` and a ``POST /leads/list`` page, ``pause_seconds`` apart."""
    rng = random.Random(7)
    body = {"organization_user_ids": [str(user) for user in workspace.next_triple()]}
    started = time.perf_counter()
    response = client.post("/api/v2/leads/bulk-assign", json=body)
    if response.status_code != 202:
        raise RuntimeError(f"bulk-assign answered {response.status_code}: {response.text}")
    job_id = response.json()["job_id"]
    done = threading.Event()
    status: dict[str, Any] = {}

    def watch() -> None:
        while True:
            job = client.get(f"/api/v2/background-jobs/{job_id}").json()
            status.update(job)
            if job["status"] in FINISHED:
                done.set()
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    while not done.is_set() and status.get("status") != "in-progress":
        time.sleep(0.02)
    gets: list[float] = []
    pages: list[float] = []
    while not done.is_set():
        lead_id = rng.choice(workspace.sample_lead_ids)
        seconds, reply = timed(lambda lead_id=lead_id: reader.get(f"/api/v2/leads/{lead_id}"))
        check(reply, "GET /leads/{id}")
        gets.append(seconds)
        page = list_body(workspace, rng, filter=CONTACTED_FILTER)
        seconds, reply = timed(lambda page=page: reader.post("/api/v2/leads/list", json=page))
        check(reply, "POST /leads/list")
        pages.append(seconds)
        time.sleep(pause_seconds)
    watcher.join()
    job_seconds = time.perf_counter() - started
    if status.get("status") != "success":
        raise RuntimeError(f"the job ended {status.get('status')}: {status.get('data')}")
    result: dict[str, Any] = {
        "job_seconds": round(job_seconds, 2),
        "get_lead": latency_summary(gets),
        "list_page": latency_summary(pages),
    }
    log(
        f"  during a {workspace.lead_count}-lead job ({job_seconds:.1f} s): "
        f"GET p99 {result['get_lead']['p99_ms']} ms, list p99 {result['list_page']['p99_ms']} ms"
    )
    return result


def idle_pages(
    server: Server,
    client: httpx.Client,
    workspace: BenchWorkspace,
    *,
    requests: int,
    search: bool,
    log: Any,
) -> dict[str, Any]:
    """``requests`` sequential list pages: 100 leads, one ``filter`` (or a ``search``)."""
    rng = random.Random(11)
    fields: dict[str, Any] = {"search": SEARCH_TERM} if search else {"filter": CONTACTED_FILTER}
    for _ in range(5):  # warm up connections and caches
        check(client.post("/api/v2/leads/list", json=list_body(workspace, rng, **fields)), "list")
    seconds: list[float] = []
    items = 0
    cpu_before = server.cpu_seconds()
    for _ in range(requests):
        body = list_body(workspace, rng, **fields)
        elapsed, reply = timed(lambda body=body: client.post("/api/v2/leads/list", json=body))
        check(reply, "POST /leads/list")
        items += len(reply.json()["items"])
        seconds.append(elapsed)
    summary: dict[str, Any] = latency_summary(seconds)
    summary["mean_items"] = round(items / max(requests, 1), 1)
    # The server's own CPU per request: what the API process spends, whatever the load.
    summary["server_cpu_ms_per_request"] = round(
        (server.cpu_seconds() - cpu_before) * 1000 / max(requests, 1), 2
    )
    what = f"search {SEARCH_TERM!r}" if search else f"filter {CONTACTED_FILTER}"
    log(
        f"  list pages, {what}: p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
        f"server CPU {summary['server_cpu_ms_per_request']} ms/request"
    )
    return summary
