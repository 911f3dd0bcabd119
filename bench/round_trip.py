"""``python -m bench.round_trip``: what one more statement costs a request's process.

An accepted bulk-assign sends six statements to PostgreSQL (``BEGIN``, members, high-water
mark, the queue's lock, the job row, ``COMMIT``) and a bare authenticated read one. This
runs units of work shaped like the API's, one thread, through a SQLAlchemy ``Session`` on
the service's own engine configuration, and reads the process's user and system CPU
(``getrusage``) around them:

- ``read``: one primary-key-sized ``SELECT`` in a read session (autocommit on PostgreSQL);
- ``write 1``: a write session with one statement (``BEGIN``, the statement, ``COMMIT``);
- ``write 4``: a write session with four.

The difference between ``write 4`` and ``write 1``, over three, is one statement's cost; the
kernel's share of each round trip is in the system time. Not part of ``make bench``: it
explains the accept's figures (docs/benchmarks.md), and like every timing here it moves
with the machine.
"""

import argparse
import resource
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.common import DEFAULT_PG_URL, SCRATCH
from leadroute.db.engine import create_db_engine
from leadroute.db.session import Database
from leadroute.settings import Settings

STATEMENT = select(func.now())


def measure(sessions: sessionmaker[Session], statements: int, count: int) -> dict[str, float]:
    """Microseconds of user and system CPU, and of wall time, per unit of work."""

    def unit_of_work() -> None:
        with sessions() as session:
            for _ in range(statements):
                session.execute(STATEMENT).scalar()
            session.commit()

    for _ in range(count // 10):  # warm: pool, prepared statements, caches
        unit_of_work()
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(count):
        unit_of_work()
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    return {
        "user_us": round((after.ru_utime - before.ru_utime) / count * 1e6, 1),
        "system_us": round((after.ru_stime - before.ru_stime) / count * 1e6, 1),
        "wall_us": round(wall / count * 1e6, 1),
    }


def run(url: str, count: int) -> dict[str, Any]:
    database = Database(create_db_engine(Settings(database_url=url)))
    try:
        shapes = {
            "read": measure(database.read_sessions, 1, count),
            "write 1": measure(database.write_sessions, 1, count),
            "write 4": measure(database.write_sessions, 4, count),
        }
    finally:
        database.dispose()
    one, four = shapes["write 1"], shapes["write 4"]
    shapes["one more statement"] = {
        key: round((four[key] - one[key]) / 3, 1) for key in ("user_us", "system_us", "wall_us")
    }
    return shapes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.round_trip", description=__doc__)
    # Any database: nothing is created, only `SELECT now()` runs.
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL.rsplit("/", 1)[0] + "/postgres")
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args(argv)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    urls = {"sqlite": f"sqlite:///{SCRATCH / 'round_trip.db'}", "postgresql": args.pg_url}
    for engine, url in urls.items():
        for shape, figures in run(url, args.count).items():
            cpu = figures["user_us"] + figures["system_us"]
            print(
                f"{engine:10} {shape:19} CPU {cpu:6.1f} µs (user {figures['user_us']:6.1f}, "
                f"system {figures['system_us']:5.1f}), wall {figures['wall_us']:6.1f} µs"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
