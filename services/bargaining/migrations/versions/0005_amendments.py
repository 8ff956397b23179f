"""Amendments to concluded agreements.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "amendment",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("proposed_by_side", sa.String(20), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.String(2000), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("term_to", sa.Date(), nullable=True),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("adopted_on", sa.Date(), nullable=True),
        sa.Column("agreement_version", sa.Integer(), nullable=True),
        sa.Column("applied", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("negotiation_id", "number", name="uq_amendment_number"),
    )
    op.create_index("ix_amendment_negotiation_id", "amendment", ["negotiation_id"])


def downgrade() -> None:
    op.drop_index("ix_amendment_negotiation_id", table_name="amendment")
    op.drop_table("amendment")
