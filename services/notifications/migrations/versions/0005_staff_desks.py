"""Staff desks in the portal inbox: a message belongs to an organisation or to the desk of one ministry
staff role (``staff_role``), exactly one of the two, and a desk holds an event once. Existing messages are
all organisations' and stay as they are.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ONE_INBOX = ("(organisation_id IS NULL AND staff_role IS NOT NULL) "
             "OR (organisation_id IS NOT NULL AND staff_role IS NULL)")


def upgrade() -> None:
    # Batch mode: SQLite can change a column's nullability or add a constraint only by copying the table.
    with op.batch_alter_table("inbox_message") as batch:
        batch.add_column(sa.Column("staff_role", sa.String(40), nullable=True))
        batch.alter_column("organisation_id", existing_type=sa.Uuid(), nullable=True)
        batch.create_unique_constraint("uq_inbox_message_desk_event", ["staff_role", "event_id"])
        batch.create_check_constraint("ck_inbox_message_one_inbox", ONE_INBOX)


def downgrade() -> None:
    # Desk messages have no organisation to fall back to: they (and their read marks) go.
    op.execute("DELETE FROM inbox_read WHERE message_id IN "
               "(SELECT id FROM inbox_message WHERE staff_role IS NOT NULL)")
    op.execute("DELETE FROM inbox_message WHERE staff_role IS NOT NULL")
    with op.batch_alter_table("inbox_message") as batch:
        batch.drop_constraint("ck_inbox_message_one_inbox", type_="check")
        batch.drop_constraint("uq_inbox_message_desk_event", type_="unique")
        batch.alter_column("organisation_id", existing_type=sa.Uuid(), nullable=False)
        batch.drop_column("staff_role")
