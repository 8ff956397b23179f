"""Tripartite commissions: parties, members, sittings, agenda, decisions, consultations, notices; the
commitments of agreements with their progress reports.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commission",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("sector", sa.String(20), nullable=True),
        sa.Column("region_code", sa.String(20), nullable=True),
        sa.Column("chair_name", sa.String(200), nullable=False),
        sa.Column("chair_position", sa.String(200), nullable=False),
        sa.Column("secretariat", sa.String(300), nullable=False),
        sa.Column("term_from", sa.Date(), nullable=False),
        sa.Column("term_to", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_commission_level", "commission", ["level"], unique=False)
    op.create_table(
        "commission_notice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("commission_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("body", sa.String(20000), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("shared_by_side", sa.String(length=20), nullable=True),
        sa.Column("shared_on", sa.Date(), nullable=False),
        sa.Column("shared_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commission_id"], ["commission.id"]),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_commission_notice_commission_id", "commission_notice", ["commission_id"], unique=False)
    op.create_table(
        "commission_party",
        sa.Column("commission_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("name_ru", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(["commission_id"], ["commission.id"]),
        sa.PrimaryKeyConstraint("commission_id", "organisation_id")
    )
    op.create_index("ix_commission_party_organisation_id", "commission_party", ["organisation_id"], unique=False)
    op.create_table(
        "commission_seat",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("commission_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.String(200), nullable=False),
        sa.Column("term_from", sa.Date(), nullable=False),
        sa.Column("term_to", sa.Date(), nullable=False),
        sa.Column("recalled_on", sa.Date(), nullable=True),
        sa.Column("appointed_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commission_id"], ["commission.id"]),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_commission_seat_commission_id", "commission_seat", ["commission_id"], unique=False)
    op.create_table(
        "commission_sitting",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("commission_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(300), nullable=True),
        sa.Column("remote", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attendance", sa.JSON(), nullable=False),
        sa.Column("quorum", sa.JSON(), nullable=False),
        sa.Column("quorum_met", sa.Boolean(), nullable=True),
        sa.Column("minutes", sa.String(20000), nullable=True),
        sa.Column("minutes_documents", sa.JSON(), nullable=False),
        sa.Column("minutes_published_on", sa.Date(), nullable=True),
        sa.Column("scheduled_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commission_id"], ["commission.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commission_id", "number", name="uq_sitting_number")
    )
    op.create_index("ix_commission_sitting_commission_id", "commission_sitting", ["commission_id"], unique=False)
    op.create_table(
        "commitment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("negotiation_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("clause_number", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(4000), nullable=False),
        sa.Column("responsible_side", sa.String(length=20), nullable=False),
        sa.Column("responsible_id", sa.Uuid(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("indicator", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("late_since", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["negotiation_id"], ["negotiation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("negotiation_id", "number", name="uq_commitment_number")
    )
    op.create_index("ix_commitment_negotiation_id", "commitment", ["negotiation_id"], unique=False)
    op.create_index("ix_commitment_responsible_id", "commitment", ["responsible_id"], unique=False)
    op.create_index("ix_commitment_responsible_side", "commitment", ["responsible_side"], unique=False)
    op.create_index("ix_commitment_status", "commitment", ["status"], unique=False)
    op.create_table(
        "consultation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("commission_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("summary", sa.String(4000), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("opened_by_side", sa.String(length=20), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("positions_due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("overdue_sides", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(20000), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commission_id"], ["commission.id"]),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_consultation_commission_id", "consultation", ["commission_id"], unique=False)
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sitting_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("summary", sa.String(4000), nullable=True),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sitting_id"], ["commission_sitting.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sitting_id", "number", name="uq_agenda_item_number")
    )
    op.create_index("ix_agenda_item_sitting_id", "agenda_item", ["sitting_id"], unique=False)
    op.create_table(
        "commission_decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sitting_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("agenda_item_number", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(20000), nullable=False),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("rules", sa.String(60), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sitting_id"], ["commission_sitting.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sitting_id", "number", name="uq_decision_number")
    )
    op.create_index("ix_commission_decision_sitting_id", "commission_decision", ["sitting_id"], unique=False)
    op.create_table(
        "commitment_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("commitment_id", sa.Uuid(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.String(20000), nullable=False),
        sa.Column("indicator_value", sa.String(300), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("reported_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitment.id"]),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_commitment_report_commitment_id", "commitment_report", ["commitment_id"], unique=False)
    op.create_table(
        "consultation_position",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("position", sa.String(length=30), nullable=False),
        sa.Column("text", sa.String(20000), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("filed_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("consultation_id", "side")
    )
    op.create_table(
        "notice_receipt",
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["commission_notice.id"]),
        sa.PrimaryKeyConstraint("notice_id", "organisation_id")
    )


def downgrade() -> None:
    op.drop_table("notice_receipt")
    op.drop_table("consultation_position")
    op.drop_index("ix_commitment_report_commitment_id", table_name="commitment_report")
    op.drop_table("commitment_report")
    op.drop_index("ix_commission_decision_sitting_id", table_name="commission_decision")
    op.drop_table("commission_decision")
    op.drop_index("ix_agenda_item_sitting_id", table_name="agenda_item")
    op.drop_table("agenda_item")
    op.drop_index("ix_consultation_commission_id", table_name="consultation")
    op.drop_table("consultation")
    op.drop_index("ix_commitment_status", table_name="commitment")
    op.drop_index("ix_commitment_responsible_side", table_name="commitment")
    op.drop_index("ix_commitment_responsible_id", table_name="commitment")
    op.drop_index("ix_commitment_negotiation_id", table_name="commitment")
    op.drop_table("commitment")
    op.drop_index("ix_commission_sitting_commission_id", table_name="commission_sitting")
    op.drop_table("commission_sitting")
    op.drop_index("ix_commission_seat_commission_id", table_name="commission_seat")
    op.drop_table("commission_seat")
    op.drop_index("ix_commission_party_organisation_id", table_name="commission_party")
    op.drop_table("commission_party")
    op.drop_index("ix_commission_notice_commission_id", table_name="commission_notice")
    op.drop_table("commission_notice")
    op.drop_index("ix_commission_level", table_name="commission")
    op.drop_table("commission")
