"""The kernel's deadline table: status confirmation periods are announced and lapse on time.

Revision ID: 0004
Revises: 0003
"""
from kernel.migrations import create_deadline_table_v1, drop_deadline_table_v1

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_deadline_table_v1()


def downgrade() -> None:
    drop_deadline_table_v1()
