"""Writes sent with an Idempotency-Key and the answers they got.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotent_request",
        sa.Column("scope_key", sa.String(64), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_idempotent_request_expires_at", "idempotent_request", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotent_request_expires_at", table_name="idempotent_request")
    op.drop_table("idempotent_request")
