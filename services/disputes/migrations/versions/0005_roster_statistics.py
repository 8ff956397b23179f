"""Roster of mediators and arbitrators; cause, region and sector of collective disputes; drafts opened from a
bargaining protocol of disagreements; the once-per-stage mark of the stalled event.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("collective_dispute", sa.Column("cause", sa.String(30), nullable=False, server_default="other"))
    op.add_column("collective_dispute", sa.Column("region_code", sa.String(20), nullable=True))
    op.add_column("collective_dispute", sa.Column("sector_code", sa.String(20), nullable=True))
    op.add_column("collective_dispute", sa.Column("mediator_id", sa.Uuid(), nullable=True))
    op.add_column("collective_dispute", sa.Column("bargaining", sa.JSON(), nullable=True))
    op.add_column("collective_dispute", sa.Column("bargaining_protocol_id", sa.Uuid(), nullable=True))
    op.create_index("ix_collective_dispute_cause", "collective_dispute", ["cause"])
    op.create_index("ix_collective_dispute_region_code", "collective_dispute", ["region_code"])
    # A protocol of disagreements opens at most one draft (several NULLs are allowed by both databases).
    op.create_index("uq_collective_dispute_bargaining_protocol_id", "collective_dispute", ["bargaining_protocol_id"],
                    unique=True)
    # Disputes recorded before: their region is the employer's region in the register, where it is known.
    op.execute("UPDATE collective_dispute SET region_code = (SELECT party.region_code FROM party "
               "WHERE party.id = collective_dispute.employer_id) WHERE region_code IS NULL")
    op.add_column("dispute_stage", sa.Column("stalled_event_at", UTCDateTime(), nullable=True))

    op.create_table(
        "roster_member",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("specialisations", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("affiliations", sa.JSON(), nullable=False),
        sa.Column("last_assigned_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_roster_member_kind", "roster_member", ["kind"])
    op.create_table(
        "roster_assignment",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("dispute_id", sa.Uuid(), sa.ForeignKey("collective_dispute.id"), nullable=False),
        sa.Column("member_id", sa.Uuid(), sa.ForeignKey("roster_member.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column("by_rotation", sa.Boolean(), nullable=False),
        sa.Column("assigned_by", sa.String(200), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=True),
        sa.Column("consent_document", sa.String(300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("dispute_id", "member_id", name="uq_roster_assignment_member"),
    )
    op.create_index("ix_roster_assignment_dispute_id", "roster_assignment", ["dispute_id"])
    op.create_index("ix_roster_assignment_member_id", "roster_assignment", ["member_id"])


def downgrade() -> None:
    op.drop_table("roster_assignment")
    op.drop_table("roster_member")
    with op.batch_alter_table("dispute_stage") as batch:
        batch.drop_column("stalled_event_at")
    op.drop_index("uq_collective_dispute_bargaining_protocol_id", "collective_dispute")
    op.drop_index("ix_collective_dispute_region_code", "collective_dispute")
    op.drop_index("ix_collective_dispute_cause", "collective_dispute")
    with op.batch_alter_table("collective_dispute") as batch:
        for column in ("bargaining_protocol_id", "bargaining", "mediator_id", "sector_code", "region_code", "cause"):
            batch.drop_column(column)
