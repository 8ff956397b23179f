"""Accession requests to enterprise agreements, workers covered by each agreement, employees figures.

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
        "accession_request",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), nullable=False),
        sa.Column("union_id", sa.Uuid(), nullable=False),
        sa.Column("union_name_ru", sa.String(300), nullable=False),
        sa.Column("employer_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("overdue_since", sa.Date(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("reasons", sa.String(2000), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("answered_by", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    for column in ("negotiation_id", "union_id", "employer_id"):
        op.create_index(f"ix_accession_request_{column}", "accession_request", [column])
    op.create_table(
        "agreement_coverage",
        sa.Column("negotiation_id", sa.Uuid(), sa.ForeignKey("negotiation.id"), primary_key=True),
        sa.Column("workers_covered", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(20), nullable=True),
        sa.Column("sector", sa.String(20), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_agreement_coverage_region_code", "agreement_coverage", ["region_code"])
    op.create_index("ix_agreement_coverage_sector", "agreement_coverage", ["sector"])
    op.create_table(
        "employees_figures",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("national", sa.Integer(), nullable=False),
        sa.Column("by_region", sa.JSON(), nullable=False),
        sa.Column("by_sector", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(300), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("employees_figures", "agreement_coverage", "accession_request"):
        op.drop_table(table)
