"""expression indexes: case-insensitive email, trigram search on PostgreSQL

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TEXT = (
    "lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || chr(31) "
    "|| coalesce(email, ''))"
)


def upgrade() -> None:
    op.execute("CREATE INDEX ix_leads_workspace_id_email ON leads (workspace_id, lower(email))")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_leads_search_text_trgm ON leads "
            f"USING gin ({SEARCH_TEXT} gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_leads_search_text_trgm")
    op.execute("DROP INDEX IF EXISTS ix_leads_workspace_id_email")
