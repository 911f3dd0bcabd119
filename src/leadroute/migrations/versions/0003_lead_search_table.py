"""lead_search: each lead's search text in a narrow table of its own, kept by triggers

Revision ID: 0003
Revises: 0002

Why: PostgreSQL updates a row by writing a new version of it, and unless the update is
"HOT" (no indexed column changed) the new version gets a new entry in every index of the
table. An assignment changes ``assigned_to``, which is indexed, so each lead it changed also
got its ~40 trigrams written again into the GIN index of migration 0002: at 1M leads the
round-robin floor took 95.6 us per lead with it and 66.7 us without (-30%). Here the text
lives in ``lead_search``, which is written only when a lead is inserted or its name or
email changes.

Triggers keep it, so every way a lead is written (the ORM, bulk SQL, an import) keeps it
too. PostgreSQL inserts a statement's new leads in one set-based statement (a transition
table); SQLite, which has no statement-level triggers, row by row. A lead's deletion
cascades by the foreign key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def search_text(row: str, separator: str) -> str:
    """The text ``search`` matches, of the lead ``row`` (``NEW``, ``OLD``, ``""``: unqualified)."""
    prefix = f"{row}." if row else ""
    return (
        f"lower(coalesce({prefix}first_name, '') || ' ' || coalesce({prefix}last_name, '') "
        f"|| {separator} || coalesce({prefix}email, ''))"
    )


# PostgreSQL spells the unit separator chr(31), SQLite char(31).
PG = "chr(31)"
SQLITE = "char(31)"

POSTGRES_TRIGGERS = [
    f"""
    CREATE FUNCTION lead_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO lead_search (lead_id, search_text)
        SELECT leads.id, {search_text("leads", PG)} FROM inserted_leads AS leads;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER lead_search_insert AFTER INSERT ON leads
    REFERENCING NEW TABLE AS inserted_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lead_search_insert()
    """,
    f"""
    CREATE FUNCTION lead_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE lead_search SET search_text = {search_text("NEW", PG)}
        WHERE lead_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    # A column list, so an UPDATE that sets none of these (an assignment) never fires it.
    f"""
    CREATE TRIGGER lead_search_update AFTER UPDATE OF first_name, last_name, email ON leads
    FOR EACH ROW WHEN ({search_text("OLD", PG)} IS DISTINCT FROM {search_text("NEW", PG)})
    EXECUTE FUNCTION lead_search_update()
    """,
]

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER lead_search_insert AFTER INSERT ON leads
    BEGIN
        INSERT INTO lead_search (lead_id, search_text)
        VALUES (NEW.id, {search_text("NEW", SQLITE)});
    END
    """,
    f"""
    CREATE TRIGGER lead_search_update AFTER UPDATE OF first_name, last_name, email ON leads
    WHEN {search_text("OLD", SQLITE)} IS NOT {search_text("NEW", SQLITE)}
    BEGIN
        UPDATE lead_search SET search_text = {search_text("NEW", SQLITE)}
        WHERE lead_id = NEW.id;
    END
    """,
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "lead_search",
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_search_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_search")),
    )
    separator = PG if postgres else SQLITE
    op.execute(
        "INSERT INTO lead_search (lead_id, search_text) "
        f"SELECT leads.id, {search_text('leads', separator)} FROM leads"
    )
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)
    if postgres:
        op.execute(
            "CREATE INDEX ix_lead_search_search_text_trgm ON lead_search "
            "USING gin (search_text gin_trgm_ops)"
        )
        op.execute("DROP INDEX IF EXISTS ix_leads_search_text_trgm")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER IF EXISTS lead_search_update" + (" ON leads" if postgres else ""))
    op.execute("DROP TRIGGER IF EXISTS lead_search_insert" + (" ON leads" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS lead_search_update()")
        op.execute("DROP FUNCTION IF EXISTS lead_search_insert()")
        op.execute(
            "CREATE INDEX ix_leads_search_text_trgm ON leads "
            f"USING gin ({search_text('', PG)} gin_trgm_ops)"
        )
    op.drop_table("lead_search")
