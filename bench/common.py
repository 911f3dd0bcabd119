"""What every measurement shares: the engines under test, timing and percentile helpers."""

import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from leadroute.db.engine import create_db_engine
from leadroute.settings import Settings

SCRATCH = Path(os.environ.get("LEADROUTE_BENCH_DIR", "/tmp/lr_bench"))
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lr_bench"


@dataclass(frozen=True)
class Target:
    """One engine under test and the database the run owns on it."""

    name: str  # "sqlite" or "postgresql"
    url: str

    @property
    def is_postgresql(self) -> bool:
        return self.name == "postgresql"

    def settings(self, **overrides: Any) -> Settings:
        return Settings(database_url=self.url, **overrides)

    def engine(self) -> Engine:
        return create_db_engine(self.settings())

    def drop(self) -> None:
        """Remove the run's database (1M leads take about 1 GB on either engine)."""
        if self.is_postgresql:
            url = make_url(self.url)
            admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": url.database},
                )
                connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
            admin.dispose()
        else:
            path = Path(make_url(self.url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def recreate(self) -> None:
        """An empty database (the schema is applied by the caller)."""
        if self.is_postgresql:
            url = make_url(self.url)
            admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": url.database},
                )
                connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
            admin.dispose()
        else:
            path = Path(make_url(self.url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)


def targets(names: Sequence[str], pg_url: str) -> list[Target]:
    known = {
        "sqlite": Target("sqlite", f"sqlite:///{SCRATCH / 'bench.db'}"),
        "postgresql": Target("postgresql", pg_url),
    }
    return [known[name] for name in names]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0..1) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """Milliseconds: count, p50, p90, p99, max."""
    millis = [value * 1000 for value in seconds]
    return {
        "count": len(millis),
        "p50_ms": round(percentile(millis, 0.50), 2),
        "p90_ms": round(percentile(millis, 0.90), 2),
        "p99_ms": round(percentile(millis, 0.99), 2),
        "max_ms": round(max(millis), 2) if millis else float("nan"),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as elapsed: ...`` then ``elapsed[0]`` is the seconds taken."""
    elapsed: list[float] = []
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.append(time.perf_counter() - started)


def maintain(engine: Engine) -> None:
    """Between measurements: no dead rows or WAL left by the previous one.

    PostgreSQL: ``VACUUM ANALYZE leads`` and a ``CHECKPOINT``, so each measurement starts
    with the same table and no checkpoint pending; SQLite: a truncating WAL checkpoint.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE leads"))
            connection.execute(text("VACUUM ANALYZE assignment_batches"))
            connection.execute(text("CHECKPOINT"))
    else:
        sqlite_driver_statements(engine, "ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)")


def sqlite_driver_statements(engine: Engine, *statements: str) -> None:
    """Statements that must run outside any transaction, on the driver's connection."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()
    finally:
        raw.close()


def machine() -> dict[str, Any]:
    """The machine and software the figures were taken on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    postgres = "unknown"
    if shutil.which("psql"):
        with suppress(OSError, subprocess.SubprocessError):
            postgres = subprocess.run(
                ["psql", "--version"], capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql_client": postgres,
        "load_average_at_start": list(os.getloadavg()),
    }


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def speed_probe() -> float:
    """Milliseconds a fixed pure-Python workload takes here, the best of five.

    This machine's speed drifts from day to day and within a run (one session measured the
    same requests at twice the CPU of another, with the same instruction counts), and the
    absolute targets (requests per second, p50 and p99 latencies) move with it. Recorded
    beside the load average so that runs on different days can be compared.
    """
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        table: dict[int, int] = {}
        for number in range(300_000):
            table[number & 1023] = table.get(number & 1023, 0) + number
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)


def dump_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")
