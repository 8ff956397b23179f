"""Webhook signing secrets stored encrypted: room for a Fernet token (140 characters for a
``whsec_`` secret) in ``secret`` and ``previous_secret``. Plain rows written before are encrypted
by the service at start (webhooks/secret_box.py), which holds the key; a migration does not.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoint") as batch:
        batch.alter_column("secret", existing_type=sa.String(100), type_=sa.String(400), existing_nullable=False)
        batch.alter_column("previous_secret", existing_type=sa.String(100), type_=sa.String(400),
                           existing_nullable=True)


def downgrade() -> None:
    # Only after the secrets were decrypted again: a token does not fit in 100 characters.
    with op.batch_alter_table("webhook_endpoint") as batch:
        batch.alter_column("secret", existing_type=sa.String(400), type_=sa.String(100), existing_nullable=False)
        batch.alter_column("previous_secret", existing_type=sa.String(400), type_=sa.String(100),
                           existing_nullable=True)
