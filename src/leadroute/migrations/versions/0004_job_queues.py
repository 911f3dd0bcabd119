"""job_queues: each serial queue's head, which orders its jobs in place of an advisory lock

Revision ID: 0004
Revises: 0003

Why: queueing a job used to take ``pg_advisory_xact_lock(queue)`` in a statement of its
own, then check in the INSERT that the new id sorts after every active job of the queue. The
lock had to be a statement of its own: a lock taken inside a statement does not show that
statement the rows its previous holder committed. A row lock does: ``INSERT ... ON CONFLICT
DO UPDATE`` on the queue's head locks the row and updates its latest committed version. So
the head moves in the job row's own statement (``jobs.service.insert_job``), one round trip
where there were two, and the accepting request needs no transaction around it.

The head of each existing queue is its largest job id, active or not.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_queues",
        sa.Column("queue_key", sa.String(length=255), nullable=False),
        sa.Column("last_job_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("queue_key", name=op.f("pk_job_queues")),
    )
    # PostgreSQL 15 has no max() over uuid: the largest id is read with ORDER BY ... LIMIT 1.
    op.execute(
        """
        INSERT INTO job_queues (queue_key, last_job_id)
        SELECT queues.queue_key, (
            SELECT jobs.id FROM background_jobs AS jobs
            WHERE jobs.queue_key = queues.queue_key
            ORDER BY jobs.id DESC LIMIT 1
        )
        FROM (
            SELECT DISTINCT queue_key FROM background_jobs WHERE queue_key IS NOT NULL
        ) AS queues
        """
    )


def downgrade() -> None:
    op.drop_table("job_queues")
