"""Kernel tables and the parties read model.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime
from kernel.migrations import create_kernel_tables_v1, drop_kernel_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables_v1()
    op.create_table(
        "party",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("name_kk", sa.String(300), nullable=False),
        sa.Column("name_ru", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=True),
        sa.Column("bin", sa.String(12), nullable=True),
        sa.Column("region_code", sa.String(20), nullable=True),
        sa.Column("registry_status", sa.String(40), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_party_kind", "party", ["kind"])


def downgrade() -> None:
    op.drop_table("party")
    drop_kernel_tables_v1()
