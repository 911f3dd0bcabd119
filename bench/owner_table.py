"""``python -m bench.owner_table``: what owners in a narrow table of their own would change.

An experiment for item 2's naive / leadroute target, not part of ``make bench``. It asks:
if ``assigned_to`` lived in ``lead_owners(lead_id, workspace_id, assigned_to)`` (with the
same owner index as ``leads``) instead of in the 55-column lead row, how fast would the
one-statement round-robin floor be, and how fast an ORM loop that loads owners in pages of
1,000 and sets ``assigned_to`` on each (as ``bench/assign.py:run_naive`` does on ``leads``)?
It builds its own scratch database (``lr_owner_table`` on PostgreSQL, a file under the bench
scratch directory on SQLite) and removes it at the end.
"""

import argparse
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, Index, Uuid, bindparam, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from bench.common import DEFAULT_PG_URL, SCRATCH

PAGE = 1_000
INSERT_BATCH = 50_000


class Base(DeclarativeBase):
    pass


class LeadOwner(Base):
    __tablename__ = "lead_owners"

    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


Index(
    "ix_lead_owners_workspace_assigned_lead",
    LeadOwner.workspace_id,
    LeadOwner.assigned_to,
    LeadOwner.lead_id,
)
Index("ix_lead_owners_workspace_lead", LeadOwner.workspace_id, LeadOwner.lead_id)

ROUND_ROBIN = text(
    "UPDATE lead_owners SET assigned_to = CASE numbered.position % 3 "
    "WHEN 0 THEN :first WHEN 1 THEN :second ELSE :third END "
    "FROM (SELECT lead_id, row_number() OVER (ORDER BY lead_id) - 1 AS position "
    "FROM lead_owners WHERE workspace_id = :workspace) AS numbered "
    "WHERE lead_owners.lead_id = numbered.lead_id"
).bindparams(*(bindparam(name, type_=Uuid()) for name in ("first", "second", "third", "workspace")))


SQLITE_PATH = SCRATCH / "owner_table.db"
PG_DATABASE = "lr_owner_table"


def drop_scratch(engine_name: str, pg_url: str, *, recreate: bool = False) -> None:
    if engine_name == "postgresql":
        url = make_url(pg_url).set(database="postgres")
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"'))
            if recreate:
                connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
        admin.dispose()
        return
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)


def scratch_engine(engine_name: str, pg_url: str) -> Engine:
    drop_scratch(engine_name, pg_url, recreate=True)
    if engine_name == "postgresql":
        return create_engine(make_url(pg_url).set(database=PG_DATABASE))
    engine = create_engine(f"sqlite:///{SQLITE_PATH}")

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: object, _record: object) -> None:
        # The service's own settings (leadroute.db.engine), so the floor compares.
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return engine


def build(engine: Engine, workspace: uuid.UUID, count: int) -> None:
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        for start in range(0, count, INSERT_BATCH):
            connection.execute(
                LeadOwner.__table__.insert(),
                [
                    {"lead_id": uuid.UUID(int=(number + 1) << 64), "workspace_id": workspace}
                    for number in range(start, min(start + INSERT_BATCH, count))
                ],
            )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE lead_owners"))
            connection.execute(text("CHECKPOINT"))


def floor_seconds(engine: Engine, workspace: uuid.UUID, users: Sequence[uuid.UUID]) -> float:
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            ROUND_ROBIN,
            {"first": users[0], "second": users[1], "third": users[2], "workspace": workspace},
        )
    return time.perf_counter() - started


def naive_seconds_per_lead(
    engine: Engine, workspace: uuid.UUID, users: Sequence[uuid.UUID], leads: int
) -> float:
    started = time.perf_counter()
    done, last = 0, None
    while done < leads:
        with Session(engine) as session:
            page_query = select(LeadOwner).where(LeadOwner.workspace_id == workspace)
            if last is not None:
                page_query = page_query.where(LeadOwner.lead_id > last)
            page = session.scalars(page_query.order_by(LeadOwner.lead_id).limit(PAGE)).all()
            if not page:
                break
            for owner in page:
                owner.assigned_to = users[done % 3]
                done += 1
            last = page[-1].lead_id
            session.commit()
    return (time.perf_counter() - started) / max(done, 1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.owner_table", description=__doc__)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--naive-leads", type=int, default=50_000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    engine = scratch_engine(args.engine, args.pg_url)
    workspace, users = uuid.uuid4(), [uuid.uuid4() for _ in range(6)]
    build(engine, workspace, args.leads)
    floor = floor_seconds(engine, workspace, users[:3]) / args.leads
    naive = naive_seconds_per_lead(engine, workspace, users[3:], args.naive_leads)
    print(
        f"{args.engine}, {args.leads:,} owners: floor {floor * 1e6:.1f} µs per lead, "
        f"naive ORM loop {naive * 1e6:.1f} µs per lead, naive / floor {naive / floor:.1f}"
    )
    engine.dispose()
    drop_scratch(args.engine, args.pg_url)


if __name__ == "__main__":
    main()
