"""The kernel's deadline table (statutory periods announced and missed exactly once).

Revision ID: 0002
Revises: 0001
"""
from kernel.migrations import create_deadline_table_v1, drop_deadline_table_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_deadline_table_v1()


def downgrade() -> None:
    drop_deadline_table_v1()
