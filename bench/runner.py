"""``python -m bench``: build the workspace, run every measurement on each engine, report.

Writes ``bench/results/latest.json`` (every raw figure) and ``docs/benchmarks.md`` (the
table, the machine, the command). ``--quick`` is a smoke run (100k leads, short loads).
"""

import argparse
import shlex
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import accept, assign, latency, profile, scaleout
from bench.common import (
    DEFAULT_PG_URL,
    Target,
    dump_json,
    load_average,
    machine,
    maintain,
    speed_probe,
    targets,
)
from bench.dataset import create_bench_workspace, insert_leads, sample_lead_ids
from bench.processes import running_server, running_worker
from bench.report import write_report
from leadroute.db.migrate import upgrade_database

ROOT = Path(__file__).resolve().parent.parent
Log = Callable[[str], None]
# Raised for the whole run: the load tests measure the service, not the limiter's refusals.
GROUPS = ("list", "assign", "rss", "profile", "accept", "during", "scaleout")
RAISED_RATE_LIMITS = {"rate_limit_per_second": 1_000_000, "rate_limit_per_minute": 60_000_000}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads in the workspace")
    parser.add_argument("--quick", action="store_true", help="100k leads, short loads")
    parser.add_argument(
        "--engines", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL database to use")
    parser.add_argument("--naive-leads", type=int, default=50_000)
    parser.add_argument("--accept-rate", type=float, default=300.0)
    parser.add_argument("--accept-seconds", type=float, default=10.0)
    parser.add_argument("--list-requests", type=int, default=300)
    parser.add_argument("--scaleout-leads", type=int, default=20_000, help="per workspace")
    parser.add_argument("--profile-leads", type=int, default=200_000)
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help="comma-separated measurements to run: " + ",".join(GROUPS),
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the benchmark databases afterwards"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        if not any(arg.startswith("--leads") for arg in argv):
            args.leads = 100_000
        args.naive_leads = min(args.naive_leads, 10_000)
        args.accept_seconds = min(args.accept_seconds, 3.0)
        args.list_requests = min(args.list_requests, 60)
        args.scaleout_leads = min(args.scaleout_leads, 5_000)
        args.profile_leads = min(args.profile_leads, 50_000)
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = args.only - set(GROUPS)
    if unknown:
        parser.error(f"--only: unknown measurement(s) {sorted(unknown)}")
    args.naive_leads = min(args.naive_leads, args.leads)
    args.profile_leads = min(args.profile_leads, args.leads)
    return args


def run_engine(target: Target, args: argparse.Namespace, log: Log) -> dict[str, Any]:
    result: dict[str, Any] = {
        "engine": target.name,
        "load_average_at_start": load_average(),
        "speed_probe_ms_at_start": speed_probe(),
    }
    started = time.perf_counter()
    target.recreate()
    engine = target.engine()
    upgrade_database(engine)
    workspace = create_bench_workspace(engine, "bench")
    build = insert_leads(engine, workspace, args.leads)
    maintain(engine)
    workspace.sample_lead_ids = sample_lead_ids(engine, workspace, 2000)
    engine.dispose()
    result["build_seconds"] = round(build, 2)
    log(f"[{target.name}] built {args.leads} leads in {build:.1f} s")

    only = args.only
    with running_server(target, workspace.api_key, **RAISED_RATE_LIMITS) as server:
        if "list" in only:
            with server.client(workspace.api_key) as client:
                result["list_filter"] = latency.idle_pages(
                    server, client, workspace, requests=args.list_requests, search=False, log=log
                )
                result["list_search"] = latency.idle_pages(
                    server, client, workspace, requests=args.list_requests, search=True, log=log
                )
        if "assign" in only:
            result["assign"] = [
                assign.measure_selection(
                    target,
                    server,
                    workspace,
                    filtered=filtered,
                    naive_leads=args.naive_leads,
                    log=log,
                )
                for filtered in (False, True)
            ]
        if "rss" in only:
            small = min(100_000, args.leads)
            result["worker_rss"] = {
                "small": assign.measure_worker_rss_at(target, server, workspace, small, log),
                "full": assign.measure_worker_rss_at(target, server, workspace, args.leads, log)
                if "assign" not in only
                else None,
                "full_leads": args.leads,
            }
            full = result["worker_rss"]["full"]
            result["worker_rss"]["full_peak_rss_mib"] = (
                full["peak_rss_mib"] if full else result["assign"][0]["worker_peak_rss_mib"]
            )
        if "profile" in only:
            result["profile"] = profile.profile_job(
                target,
                server,
                workspace,
                leads=args.profile_leads,
                chunk_size=target.settings().job_chunk_size,
                log=log,
            )
        if "accept" in only:
            result["accept"] = accept.measure_accept(
                target,
                server,
                workspace,
                rate=args.accept_rate,
                seconds=args.accept_seconds,
                log=log,
            )
    if "during" not in only and not (target.is_postgresql and "scaleout" in only):
        result["load_average_at_end"] = load_average()
        result["speed_probe_ms_at_end"] = speed_probe()
        result["seconds"] = round(time.perf_counter() - started, 1)
        return result

    # The SQLite deployment runs its worker inside `leadroute serve` (its writers queue
    # fairly in one process); PostgreSQL's runs as a separate `leadroute worker` process.
    embedded = 0 if target.is_postgresql else 1
    with running_server(
        target, workspace.api_key, embedded_workers=embedded, **RAISED_RATE_LIMITS
    ) as server:
        if "during" in only:
            with (
                server.client(workspace.api_key) as client,
                server.client(workspace.api_key) as reader,
            ):
                if target.is_postgresql:
                    with running_worker(target, "during-job"):
                        result["during_job"] = latency.during_job(
                            client, reader, workspace, log=log
                        )
                else:
                    result["during_job"] = latency.during_job(client, reader, workspace, log=log)
        if target.is_postgresql and "scaleout" in only:
            result["scaleout"] = scaleout.measure_scaleout(
                target, server, leads_per_workspace=args.scaleout_leads, log=log
            )
    result["load_average_at_end"] = load_average()
    result["speed_probe_ms_at_end"] = speed_probe()
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = "make bench" + (f" BENCH_ARGS={shlex.quote(shlex.join(argv))}" if argv else "")
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"{time.perf_counter() - started:7.1f}s {message}", flush=True)

    payload: dict[str, Any] = {
        "command": command,
        "arguments": vars(args)
        | {"output": str(args.output), "report": str(args.report), "only": sorted(args.only)},
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "engines": {},
    }
    failed = False
    for target in targets([name.strip() for name in args.engines.split(",")], args.pg_url):
        try:
            payload["engines"][target.name] = run_engine(target, args, log)
        except Exception as error:  # report what was measured, then fail the run
            failed = True
            log(f"[{target.name}] FAILED: {error!r}")
            payload["engines"][target.name] = {"error": traceback.format_exc()}
        finally:
            if not args.keep_data:
                target.drop()
    payload["total_seconds"] = round(time.perf_counter() - started, 1)
    dump_json(args.output, payload)
    write_report(payload, args.report)
    log(f"wrote {args.output} and {args.report}")
    return 1 if failed else 0
