import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadroute.idempotency.models import IdempotencyKey


class IdempotencyKeyRepository:
    """Idempotency keys of one workspace; no query here can see another workspace's keys."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def get(self, key: str) -> IdempotencyKey | None:
        return self.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.workspace_id == self.workspace_id, IdempotencyKey.key == key
            )
        )

    def claim(self, key: str, fingerprint: str, *, now: datetime) -> bool:
        """Insert the key unless it exists; False when it does.

        ``ON CONFLICT DO NOTHING``: on PostgreSQL an insert that meets a key another
        transaction has just inserted waits for that transaction, then inserts (it rolled
        back) or does nothing (it committed), so exactly one request claims a key. SQLite's
        write transactions run one at a time already.
        """
        dialect = self.session.get_bind().dialect.name
        build = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            build(IdempotencyKey)
            .values(
                workspace_id=self.workspace_id,
                key=key,
                fingerprint=fingerprint,
                job_id=None,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "key"])
            .returning(IdempotencyKey.key)
        )
        return self.session.execute(statement).first() is not None

    def record_job(self, key: str, job_id: uuid.UUID) -> None:
        self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.workspace_id == self.workspace_id, IdempotencyKey.key == key)
            .values(job_id=job_id),
            execution_options={"synchronize_session": False},
        )

    def forget_older_than(self, cutoff: datetime) -> None:
        self.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.workspace_id == self.workspace_id,
                IdempotencyKey.created_at < cutoff,
            ),
            execution_options={"synchronize_session": False},
        )
