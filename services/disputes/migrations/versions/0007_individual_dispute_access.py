"""The access log of individual disputes: every read of an application (the employee's name and claim) and every
decision on it.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "individual_dispute_access",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("individual_dispute_id", sa.Uuid(), sa.ForeignKey("individual_dispute.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_individual_dispute_access_individual_dispute_id", "individual_dispute_access",
                    ["individual_dispute_id"])


def downgrade() -> None:
    op.drop_table("individual_dispute_access")
