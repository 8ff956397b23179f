"""Public register search (a normalised name column and its indexes) and labour-force figures for statistics.

Revision ID: 0006
Revises: 0005
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _normalise(text: str) -> str:
    # A frozen copy of register.rules.normalise as it stood for this revision: a migration
    # must not change meaning when the application code moves on.
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " ".join(folded.split())


def _search_text(*names: str | None) -> str:
    return "\n".join(_normalise(n) for n in names if n)


def _trigram_available(bind: sa.Connection) -> bool:
    """pg_trgm lets PostgreSQL answer LIKE '%fragment%' from an index; it is optional."""
    if bind.scalar(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")):
        return True
    if not bind.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")):
        return False
    try:
        # In a savepoint, so that a missing privilege leaves the migration's transaction usable.
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        return True
    except sa.exc.DBAPIError:
        return False


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("search_name", sa.String(1000), nullable=False, server_default=""))
        batch.create_index("ix_organisation_name_ru", ["name_ru"])

    organisation = sa.table("organisation", sa.column("id", sa.Uuid()), sa.column("name_kk", sa.String()),
                            sa.column("name_ru", sa.String()), sa.column("name_en", sa.String()),
                            sa.column("search_name", sa.String()))
    rows = bind.execute(sa.select(organisation.c.id, organisation.c.name_kk, organisation.c.name_ru,
                                  organisation.c.name_en)).all()
    if rows:
        bind.execute(organisation.update().where(organisation.c.id == sa.bindparam("row_id"))
                     .values(search_name=sa.bindparam("value")),
                     [{"row_id": r.id, "value": _search_text(r.name_kk, r.name_ru, r.name_en)} for r in rows])

    if bind.dialect.name == "postgresql" and _trigram_available(bind):
        # Trigrams answer '%fragment%' for fragments of 3 letters and more without a scan.
        op.create_index("ix_organisation_search_name", "organisation", ["search_name"], postgresql_using="gin",
                        postgresql_ops={"search_name": "gin_trgm_ops"})
    else:
        # SQLite (and PostgreSQL without pg_trgm) scans the column for '%fragment%'; measured in
        # bench/registry_bench.py. The plain index keeps the schema the same on every backend.
        op.create_index("ix_organisation_search_name", "organisation", ["search_name"])

    op.create_table(
        "labour_force",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(20), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_labour_force_year", "labour_force", ["year"])


def downgrade() -> None:
    op.drop_table("labour_force")
    op.drop_index("ix_organisation_search_name", table_name="organisation")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_index("ix_organisation_name_ru")
        batch.drop_column("search_name")
