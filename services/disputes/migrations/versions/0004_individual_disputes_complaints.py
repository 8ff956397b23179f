"""Individual labour disputes (art. 159-160) and freedom-of-association complaints with their access audit.

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
        "individual_dispute",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("employer_id", sa.Uuid(), nullable=False),
        sa.Column("employer_name", sa.String(300), nullable=False),
        sa.Column("union_id", sa.Uuid(), nullable=True),
        sa.Column("employee_name", sa.String(200), nullable=False),
        sa.Column("employee_position", sa.String(200), nullable=True),
        sa.Column("subject", sa.String(30), nullable=False),
        sa.Column("claim", sa.String(20000), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("dismissal_act_on", sa.Date(), nullable=True),
        sa.Column("violation_known_on", sa.Date(), nullable=True),
        sa.Column("suspensions", sa.JSON(), nullable=False),
        sa.Column("exemptions", sa.JSON(), nullable=False),
        sa.Column("time_limit", sa.JSON(), nullable=False),
        sa.Column("rules_code", sa.String(60), nullable=False),
        sa.Column("decision_due", sa.Date(), nullable=False),
        sa.Column("decision_overdue_since", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("decision", sa.String(20000), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("copies_due", sa.Date(), nullable=True),
        sa.Column("copies_sent_on", sa.Date(), nullable=True),
        sa.Column("copies_overdue_since", sa.Date(), nullable=True),
        sa.Column("execution_due", sa.Date(), nullable=True),
        sa.Column("executed_on", sa.Date(), nullable=True),
        sa.Column("execution_overdue_since", sa.Date(), nullable=True),
        sa.Column("court", sa.String(300), nullable=True),
        sa.Column("referred_on", sa.Date(), nullable=True),
        sa.Column("referral_reason", sa.String(2000), nullable=True),
        sa.Column("court_limit_ends_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_individual_dispute_status", "individual_dispute", ["status"])
    op.create_index("ix_individual_dispute_employer_id", "individual_dispute", ["employer_id"])
    op.create_index("ix_individual_dispute_union_id", "individual_dispute", ["union_id"])
    op.create_table(
        "complaint",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("employer_id", sa.Uuid(), nullable=False),
        sa.Column("employer_name", sa.String(300), nullable=False),
        sa.Column("union_id", sa.Uuid(), nullable=True),
        sa.Column("received_via", sa.String(20), nullable=False),
        sa.Column("complainant_name", sa.String(200), nullable=False),
        sa.Column("complainant_contact", sa.String(300), nullable=True),
        sa.Column("complainant_position", sa.String(200), nullable=True),
        sa.Column("description", sa.String(20000), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("consideration_due", sa.Date(), nullable=False),
        sa.Column("rules_code", sa.String(60), nullable=False),
        sa.Column("overdue_since", sa.Date(), nullable=True),
        sa.Column("inspector", sa.String(200), nullable=True),
        sa.Column("inspection_started_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("findings", sa.String(20000), nullable=True),
        sa.Column("findings_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_complaint_status", "complaint", ["status"])
    op.create_index("ix_complaint_employer_id", "complaint", ["employer_id"])
    op.create_index("ix_complaint_union_id", "complaint", ["union_id"])
    op.create_table(
        "complaint_access",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("complaint_id", sa.Uuid(), sa.ForeignKey("complaint.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_complaint_access_complaint_id", "complaint_access", ["complaint_id"])


def downgrade() -> None:
    op.drop_table("complaint_access")
    op.drop_table("complaint")
    op.drop_table("individual_dispute")
