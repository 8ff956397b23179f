"""Collective labour disputes and the stages each went through.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collective_dispute",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("union_id", sa.Uuid(), nullable=True),
        sa.Column("representatives", sa.String(2000), nullable=True),
        sa.Column("workers_name", sa.String(300), nullable=False),
        sa.Column("employer_id", sa.Uuid(), nullable=False),
        sa.Column("employer_name", sa.String(300), nullable=False),
        sa.Column("workers_concerned", sa.Integer(), nullable=False),
        sa.Column("demands", sa.JSON(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("rules_code", sa.String(60), nullable=False),
        sa.Column("answer", sa.String(20), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("conciliation_due", sa.Date(), nullable=True),
        sa.Column("mediator_name", sa.String(200), nullable=True),
        sa.Column("mediator_consent_on", sa.Date(), nullable=True),
        sa.Column("mediator_consent_document", sa.String(300), nullable=True),
        sa.Column("strike_decision", sa.JSON(), nullable=True),
        sa.Column("court", sa.String(300), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_collective_dispute_status", "collective_dispute", ["status"])
    op.create_index("ix_collective_dispute_union_id", "collective_dispute", ["union_id"])
    op.create_index("ix_collective_dispute_employer_id", "collective_dispute", ["employer_id"])
    op.create_table(
        "dispute_stage",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("dispute_id", sa.Uuid(), sa.ForeignKey("collective_dispute.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(30), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(20000), nullable=True),
        sa.Column("ended_by", sa.String(30), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("dispute_id", "number", name="uq_dispute_stage_number"),
    )
    op.create_index("ix_dispute_stage_dispute_id", "dispute_stage", ["dispute_id"])


def downgrade() -> None:
    op.drop_table("dispute_stage")
    op.drop_table("collective_dispute")
