"""``python -m bench.instructions``: instructions per request, counted, to compare code.

On this shared machine the CPU time of one request drifts by 20% from run to run, more than
most changes to the request path are worth. The number of instructions the same code runs
repeats within about 1% (0.5% within one invocation, which runs on one database), so a
change of 3% or more is a real one. This command calls the app in-process (raw ASGI: no
HTTP server, no client threads) under valgrind's callgrind, with counting on only while
``--requests`` requests run, and prints user-space instructions per request for each source
tree given (``--tree``, default this checkout's ``src``): a change is measured by giving the
tree before it and the tree after it.

It counts the API process's own work: not the kernel's (a round trip to the database costs
system calls too), not the database server's, and not what threads lose contending for
Python's GIL. Not part of ``make bench``; valgrind must be installed.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.accept import accept_body, drop_pending_jobs
from bench.common import DEFAULT_PG_URL, SCRATCH, Target
from bench.dataset import CONTACTED_FILTER, BenchWorkspace, create_bench_workspace, insert_leads
from bench.latency import PAGE

REPO_ROOT = Path(__file__).resolve().parents[1]
LEADS = 20_000
WARM_UP = 20
PATHS = {
    "get": ("GET", "/api/v2/workspaces/current"),
    "accept": ("POST", "/api/v2/leads/bulk-assign"),
    "list": ("POST", "/api/v2/leads/list"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL.replace("lr_bench", "lr_instructions"))
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--kinds", default="get,accept", help="comma-separated: get, accept, list")
    parser.add_argument(
        "--tree",
        action="append",
        help="a source directory holding the `leadroute` package; repeat to compare",
    )
    parser.add_argument(
        "--pre-ping",
        action="store_true",
        help="PostgreSQL: the pool pings every connection it hands out (`pool_pre_ping`)",
    )
    parser.add_argument("--child", nargs=3, metavar=("CONFIG", "KIND", "SYNC_DIR"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        config, kind, sync = args.child
        asyncio.run(run_child(json.loads(Path(config).read_text()), kind, Path(sync)))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    url = f"sqlite:///{SCRATCH / 'instructions.db'}" if args.engine == "sqlite" else args.pg_url
    target = Target(args.engine, url)
    config, workspace = prepare_database(target, args.requests, args.pre_ping)
    config_path = SCRATCH / "instructions.json"
    config_path.write_text(json.dumps(config))
    trees = [Path(tree).resolve() for tree in args.tree or [REPO_ROOT / "src"]]
    for kind in args.kinds.split(","):
        for tree in trees:
            count, package = count_instructions(tree, config_path, kind, args.requests)
            drop_pending_jobs(target, workspace)
            print(
                f"{args.engine} {kind:6s} {count / args.requests / 1e6:7.3f} M instructions "
                f"per request  ({package})",
                flush=True,
            )
    target.drop()
    return 0


def prepare_database(
    target: Target, requests: int, pre_ping: bool
) -> tuple[dict[str, Any], BenchWorkspace]:
    from leadroute.db.migrate import upgrade_database

    target.recreate()
    engine = target.engine()
    upgrade_database(engine)
    workspace = create_bench_workspace(engine, "instructions")
    insert_leads(engine, workspace, LEADS)
    engine.dispose()
    config = {
        "url": target.url,
        "api_key": workspace.api_key,
        "bodies": {
            "accept": accept_body(workspace),
            # The page `make bench` times (item 4): 100 leads, one `filter`.
            "list": {"limit": PAGE, "filter": CONTACTED_FILTER},
        },
        "requests": requests,
        "engine_options": {"pool_pre_ping": True} if pre_ping else {},
    }
    return config, workspace


def count_instructions(tree: Path, config: Path, kind: str, requests: int) -> tuple[int, str]:
    """Instructions the child ran while counting was on, and the package it imported."""
    sync = SCRATCH / "instructions-sync"
    shutil.rmtree(sync, ignore_errors=True)
    sync.mkdir(parents=True)
    # A fixed hash seed: with a random one, dict and set layouts (and so the instructions)
    # differ by 1-2% from process to process.
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{REPO_ROOT}", "PYTHONHASHSEED": "0"}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={sync / 'callgrind.out'}",
        sys.executable,
        "-m",
        "bench.instructions",
        "--child",
        str(config),
        kind,
        str(sync),
    ]
    log = (sync / "valgrind.log").open("wb")
    child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        package = wait_for(sync / "ready", child).read_text()
        subprocess.run(
            ["callgrind_control", "-i", "on", str(child.pid)], check=True, capture_output=True
        )
        (sync / "go").touch()
        wait_for(sync / "done", child)
        subprocess.run(
            ["callgrind_control", "-i", "off", str(child.pid)], check=True, capture_output=True
        )
        (sync / "exit").touch()
        child.wait(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
        log.close()
    output = (sync / "valgrind.log").read_text(errors="replace")
    found = re.search(r"Collected : (\d+)", output)
    if child.returncode != 0 or found is None:
        raise RuntimeError(f"the counted run failed:\n{output[-3000:]}")
    return int(found.group(1)), package


def wait_for(path: Path, child: subprocess.Popen[bytes], timeout: float = 600) -> Path:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if child.poll() is not None:
            raise RuntimeError(f"the counted run exited early (see {path.parent}/valgrind.log)")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {path.name} from the counted run")
        time.sleep(0.1)
    return path


def wait_for_signal(path: Path) -> None:
    """Block the child (its event loop has nothing else to run) until the parent says so."""
    while not path.exists():
        time.sleep(0.05)


async def run_child(config: dict[str, Any], kind: str, sync: Path) -> None:
    """In the valgrind process: warm up, wait for counting to start, send the requests."""
    import leadroute
    from bench.runner import RAISED_RATE_LIMITS
    from leadroute.app import create_app
    from leadroute.db.engine import create_db_engine
    from leadroute.db.session import Database
    from leadroute.runtime import freeze_startup_objects
    from leadroute.settings import Settings

    settings = Settings(database_url=config["url"], **RAISED_RATE_LIMITS)
    database = Database(create_db_engine(settings, **config["engine_options"]))
    app = create_app(settings, database=database)
    freeze_startup_objects()  # as `leadroute serve` does before its first request
    method, path = PATHS[kind]
    body = json.dumps(config["bodies"][kind]).encode() if method == "POST" else b""
    headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {config['api_key']}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    expected = 202 if kind == "accept" else 200

    async def request() -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # no disconnect while the response is sent
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        statuses: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 50000),
        }
        await app(scope, receive, send)
        if statuses != [expected]:
            raise RuntimeError(f"{method} {path} answered {statuses}")

    async with app.router.lifespan_context(app):
        for _ in range(WARM_UP):
            await request()
        # Written whole, then renamed: the parent reads it as soon as the name appears.
        (sync / "ready.tmp").write_text(str(Path(leadroute.__file__).parent))
        (sync / "ready.tmp").rename(sync / "ready")
        wait_for_signal(sync / "go")
        for _ in range(config["requests"]):
            await request()
        (sync / "done").touch()
        wait_for_signal(sync / "exit")
    database.dispose()


if __name__ == "__main__":
    sys.exit(main())
