"""``python -m bench.csv_import``: how long `leadroute leads import` takes for a CSV of N rows.

The issue's target is 100,000 rows in under 30 s on SQLite here. The measurement is the real
path an operator takes: `leadroute serve` (SQLite, one embedded worker) in a subprocess, a
workspace made by `leadroute workspace create`, a generated CSV (10 columns, 3 of them custom
variables), then `leadroute leads import FILE --list NAME` timed end to end, and once more to
time the re-run that skips every row as a duplicate. Writes ``bench/results/csv_import.json``.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import dump_json, free_port, load_average, machine

ROOT = Path(__file__).resolve().parent.parent
LEADROUTE = str(Path(sys.executable).with_name("leadroute"))
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Linus", "Margaret", "Dennis"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton"]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "Email",
                "First Name",
                "Last Name",
                "Company",
                "Title",
                "Phone",
                "Website",
                "Industry",
                "Seats",
                "Region",
            ]
        )
        for index in range(rows):
            first, last = FIRST[index % len(FIRST)], LAST[index % len(LAST)]
            writer.writerow(
                [
                    f"{first}.{last}.{index}@example.com".lower(),
                    first,
                    last,
                    f"Company {index % 997}",
                    "Engineer",
                    f"+1555{index:07d}",
                    f"https://c{index % 997}.example.com",
                    "Software",
                    index % 50,
                    "EU",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.csv_import", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "bench" / "results" / "csv_import.json"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lr_bench_import_") as scratch:
        folder = Path(scratch)
        env = {key: value for key, value in os.environ.items() if not key.startswith("LEADROUTE_")}
        env["LEADROUTE_DATABASE_URL"] = f"sqlite:///{folder}/import.db"
        created = subprocess.run(
            [
                LEADROUTE,
                "workspace",
                "create",
                "Bench",
                "--owner-email",
                "owner@bench.test",
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = json.loads(created.stdout)["api_key"]
        csv_path = folder / "leads.csv"
        write_csv(csv_path, args.rows)
        port = free_port()
        with (folder / "serve.log").open("wb") as log:
            server = subprocess.Popen(
                [LEADROUTE, "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_serving(port)
            client_env = {
                **env,
                "LEADROUTE_URL": f"http://127.0.0.1:{port}",
                "LEADROUTE_API_KEY": key,
            }
            command = [LEADROUTE, "leads", "import", str(csv_path), "--list", "Bench", "--json"]
            load_before = load_average()
            started = time.perf_counter()
            first = subprocess.run(command, env=client_env, capture_output=True, text=True)
            first_seconds = time.perf_counter() - started
            started = time.perf_counter()
            second = subprocess.run(command, env=client_env, capture_output=True, text=True)
            second_seconds = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=60)
    result = {
        "rows": args.rows,
        "engine": "sqlite",
        "import_seconds": round(first_seconds, 2),
        "import_exit_code": first.returncode,
        "import_summary": _last_json(first.stdout),
        "rerun_seconds": round(second_seconds, 2),
        "rerun_exit_code": second.returncode,
        "rerun_summary": _last_json(second.stdout),
        "target_seconds": 30,
        "met": first.returncode == 0
        and first_seconds < 30
        and _imported(first.stdout) == args.rows,
        "load_average_before": load_before,
        "machine": machine(),
        "command": "make bench-import",
    }
    dump_json(args.output, result)
    print(json.dumps({k: result[k] for k in ("rows", "import_seconds", "rerun_seconds", "met")}))


def _last_json(output: str) -> object:
    """The command's ``--json`` result: the whole output, or its last line that is an object."""
    try:
        return json.loads(output)
    except ValueError:
        pass
    for line in reversed(output.strip().splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _imported(output: str) -> int | None:
    summary = _last_json(output)
    if isinstance(summary, dict):
        for key in ("imported", "leads_uploaded", "created"):
            if isinstance(summary.get(key), int):
                return int(summary[key])
    return None


def _wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("leadroute serve did not start")


if __name__ == "__main__":
    main()
