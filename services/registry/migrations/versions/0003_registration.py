"""Registration lifecycle, rule sets, affiliations, history and membership reports.

Revision ID: 0003
Revises: 0002
"""
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The rule sets this revision loads, by file: later corrections are new revisions made
# by staff (or a later migration), never edits of these files' meaning.
RULE_SET_FILES = ("trade-unions-2014.json", "trade-unions-2020.json")
DATA = Path(__file__).resolve().parents[2] / "rulesets" / "data"


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.alter_column("registered_at", existing_type=UTCDateTime(), nullable=True)
        batch.add_column(sa.Column("legal_address", sa.String(500), nullable=True))
        batch.add_column(sa.Column("officers", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("parent_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("status_confirmation_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("confirmed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("lapsed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("liquidated_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_organisation_region_code", ["region_code"])
        batch.create_index("ix_organisation_status", ["status"])
        batch.create_index("ix_organisation_parent_id", ["parent_id"])
    op.execute("UPDATE organisation SET updated_at = registered_at")
    with op.batch_alter_table("organisation") as batch:
        batch.alter_column("updated_at", existing_type=UTCDateTime(), nullable=False)

    op.create_table(
        "organisation_sector",
        sa.Column("organisation_id", sa.Uuid(), sa.ForeignKey("organisation.id"), primary_key=True),
        sa.Column("division_code", sa.String(2), primary_key=True),
    )
    op.create_index("ix_organisation_sector_division_code", "organisation_sector", ["division_code"])
    op.create_table(
        "affiliation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_id", sa.Uuid(), sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("parent_id", sa.Uuid(), sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_affiliation_organisation_id", "affiliation", ["organisation_id"])
    op.create_index("ix_affiliation_parent_id", "affiliation", ["parent_id"])
    op.create_table(
        "organisation_history",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_id", sa.Uuid(), sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("rule_set_code", sa.String(60), nullable=True),
        sa.Column("rule_set_revision", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_organisation_history_organisation_id", "organisation_history", ["organisation_id"])
    op.create_table(
        "membership_report",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_id", sa.Uuid(), sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("women", sa.Integer(), nullable=False),
        sa.Column("under_35", sa.Integer(), nullable=False),
        sa.Column("by_region", sa.JSON(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("reported_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("organisation_id", "year", name="uq_membership_report_year"),
    )
    op.create_index("ix_membership_report_organisation_id", "membership_report", ["organisation_id"])
    op.create_index("ix_membership_report_year", "membership_report", ["year"])
    rule_set = op.create_table(
        "rule_set",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("code", "revision", name="uq_rule_set_revision"),
    )
    op.create_index("ix_rule_set_code", "rule_set", ["code"])
    op.create_table(
        "registration_application",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_id", sa.Uuid(), sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("founders", sa.Integer(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("first_filed_on", sa.Date(), nullable=False),
        sa.Column("correction_due", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("rule_set_code", sa.String(60), nullable=True),
        sa.Column("rule_set_revision", sa.Integer(), nullable=True),
        sa.Column("grounds", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_registration_application_organisation_id", "registration_application", ["organisation_id"])
    op.create_index("ix_registration_application_status", "registration_application", ["status"])
    op.create_table(
        "status_confirmation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_id", sa.Uuid(), sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("regions_covered", sa.JSON(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("rule_set_code", sa.String(60), nullable=True),
        sa.Column("rule_set_revision", sa.Integer(), nullable=True),
        sa.Column("grounds", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_status_confirmation_organisation_id", "status_confirmation", ["organisation_id"])

    rows = []
    for name in RULE_SET_FILES:
        data = json.loads((DATA / name).read_text(encoding="utf-8"))
        rows.append({
            "id": uuid.uuid4(), "code": data["code"], "revision": 1, "title": data["title"],
            "effective_from": date.fromisoformat(data["effective_from"]), "body": data["body"],
            "reason": data["reason"], "created_by": "migration 0003", "created_at": datetime.now(UTC),
        })
    op.bulk_insert(rule_set, rows)


def downgrade() -> None:
    for table in ("status_confirmation", "registration_application", "rule_set", "membership_report",
                  "organisation_history", "affiliation", "organisation_sector"):
        op.drop_table(table)
    with op.batch_alter_table("organisation") as batch:
        batch.drop_index("ix_organisation_parent_id")
        batch.drop_index("ix_organisation_status")
        batch.drop_index("ix_organisation_region_code")
        for column in ("updated_at", "liquidated_on", "lapsed_on", "confirmed_on", "status_confirmation_due",
                       "parent_id", "officers", "legal_address"):
            batch.drop_column(column)
        batch.alter_column("registered_at", existing_type=UTCDateTime(), nullable=False)
