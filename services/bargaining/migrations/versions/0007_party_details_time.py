"""The parties read model keeps the time of the particulars last applied (kind, names, region) apart from the
time of the status: a late registry update is refused only by a later update, a late status change only by a
later status change. Rows there already take it from the one time they had.

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
    op.add_column("party", sa.Column("details_updated_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE party SET details_updated_at = updated_at")
    with op.batch_alter_table("party") as batch:
        batch.alter_column("details_updated_at", existing_type=UTCDateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("party") as batch:
        batch.drop_column("details_updated_at")
