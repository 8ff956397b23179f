"""Kernel tables and the portal inbox.

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
        "inbox_message",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("organisation_id", "event_id", name="uq_inbox_message_event"),
    )
    op.create_index("ix_inbox_message_organisation_id", "inbox_message", ["organisation_id"])


def downgrade() -> None:
    op.drop_table("inbox_message")
    drop_kernel_tables_v1()
