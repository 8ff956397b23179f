"""Negotiations: parties at the table, the parity commission, clauses with every version, meetings,
signatures and protocols of disagreements.

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
        "negotiation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("subject_matter", sa.String(2000), nullable=False),
        sa.Column("initiator_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("entry_due", sa.Date(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=True),
        sa.Column("rules_code", sa.String(60), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("with_disagreements", sa.Boolean(), nullable=False),
        sa.Column("authority", sa.String(300), nullable=True),
        sa.Column("registration_number", sa.String(100), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("term_from", sa.Date(), nullable=True),
        sa.Column("term_to", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("unilateral", sa.Boolean(), nullable=True),
        sa.Column("terminated_by", sa.Uuid(), nullable=True),
        sa.Column("end_reason", sa.String(2000), nullable=True),
        sa.Column("declined_reason", sa.String(2000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_negotiation_level", "negotiation", ["level"])
    op.create_index("ix_negotiation_status", "negotiation", ["status"])
    op.create_table(
        "negotiation_party",
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), primary_key=True),
        sa.Column("organisation_id", sa.Uuid(), primary_key=True),
        sa.Column("side", sa.String(20), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("name_ru", sa.String(300), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_negotiation_party_organisation_id", "negotiation_party", ["organisation_id"])
    op.create_table(
        "commission_member",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), nullable=False),
        sa.Column("side", sa.String(20), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.String(200), nullable=False),
    )
    op.create_index("ix_commission_member_negotiation_id", "commission_member", ["negotiation_id"])
    op.create_table(
        "clause",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("agreed_version", sa.Integer(), nullable=True),
        sa.Column("accepted", sa.JSON(), nullable=False),
        sa.Column("in_protocol", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("negotiation_id", "number", name="uq_clause_number"),
    )
    op.create_index("ix_clause_negotiation_id", "clause", ["negotiation_id"])
    op.create_table(
        "clause_version",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("clause_id", sa.Uuid(), sa.ForeignKey("clause.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(20), nullable=False),
        sa.Column("text", sa.String(20000), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("clause_id", "number", name="uq_clause_version_number"),
    )
    op.create_index("ix_clause_version_clause_id", "clause_version", ["clause_id"])
    op.create_table(
        "meeting",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.String(50000), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_meeting_negotiation_id", "meeting", ["negotiation_id"])
    op.create_table(
        "signature",
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), primary_key=True),
        sa.Column("side", sa.String(20), primary_key=True),
        sa.Column("signatory_name", sa.String(200), nullable=False),
        sa.Column("signatory_position", sa.String(200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "disagreement_protocol",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("negotiate_until", sa.Date(), nullable=False),
        sa.Column("clauses", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_disagreement_protocol_negotiation_id", "disagreement_protocol", ["negotiation_id"])


def downgrade() -> None:
    for table in ("disagreement_protocol", "signature", "meeting", "clause_version", "clause", "commission_member",
                  "negotiation_party", "negotiation"):
        op.drop_table(table)
