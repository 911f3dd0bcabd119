"""Alembic environment: runs against the connection or URL handed in by ``db.migrate``."""

from alembic import context
from sqlalchemy import Connection, create_engine, text

from leadroute.models import Base

config = context.config
target_metadata = Base.metadata

# Serialises concurrent `leadroute serve` / `worker` starts on one PostgreSQL database.
MIGRATION_LOCK_ID = 7_265_331_001


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as new_connection:
        run_migrations(new_connection)
    engine.dispose()


main()
