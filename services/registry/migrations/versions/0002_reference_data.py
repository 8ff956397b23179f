"""Reference data: regions (KATO) and the classifier of economic activities (OKED sections and divisions).

Revision ID: 0002
Revises: 0001
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

from services.registry.reference.loader import read_document

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The exact files this revision loads and the digest of their content. The rows are mapped
# here, not by the catalogue, so that later code cannot change what this revision writes;
# a new edition of either classifier is a new file and a new revision.
REGIONS_FILE = ("regions-2022.json", "5ee6dd988c0a4d532212789ad9097f280a149a2962a0c307b50c1caf02e5ef80")
CLASSIFIER_FILE = ("oked-2019.json", "46a7cd466efc2faab430f269c049e7184c4c27f9455951a427e9beab112a21c5")


def upgrade() -> None:
    region = op.create_table(
        "region",
        sa.Column("code", sa.String(9), primary_key=True),
        sa.Column("short_code", sa.String(2), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name_kk", sa.String(200), nullable=False),
        sa.Column("name_ru", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("centre_kk", sa.String(100), nullable=True),
        sa.Column("centre_ru", sa.String(100), nullable=True),
        sa.Column("centre_en", sa.String(100), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("classifier_version", sa.String(40), nullable=False),
    )
    section = op.create_table(
        "sector_section",
        sa.Column("code", sa.String(1), primary_key=True),
        sa.Column("name_kk", sa.String(300), nullable=False),
        sa.Column("name_ru", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("classifier_version", sa.String(40), nullable=False),
    )
    division = op.create_table(
        "sector_division",
        sa.Column("code", sa.String(2), primary_key=True),
        sa.Column("section_code", sa.String(1), sa.ForeignKey("sector_section.code"), nullable=False),
        sa.Column("name_kk", sa.String(300), nullable=False),
        sa.Column("name_ru", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("classifier_version", sa.String(40), nullable=False),
    )
    op.create_index("ix_sector_division_section_code", "sector_division", ["section_code"])

    regions = read_document(*REGIONS_FILE)
    valid_from = date.fromisoformat(regions["effective_from"])
    op.bulk_insert(region, [
        {"code": r["code"], "short_code": r["short_code"], "kind": r["kind"],
         **{f"name_{lang}": r["name"][lang] for lang in ("kk", "ru", "en")},
         **{f"centre_{lang}": (r["centre"] or {}).get(lang) for lang in ("kk", "ru", "en")},
         "valid_from": valid_from, "valid_to": None, "classifier_version": regions["version"]}
        for r in regions["regions"]
    ])
    classifier = read_document(*CLASSIFIER_FILE)
    op.bulk_insert(section, [
        {"code": s["code"], **{f"name_{lang}": s["name"][lang] for lang in ("kk", "ru", "en")},
         "classifier_version": classifier["version"]}
        for s in classifier["sections"]
    ])
    op.bulk_insert(division, [
        {"code": d["code"], "section_code": d["section"],
         **{f"name_{lang}": d["name"][lang] for lang in ("kk", "ru", "en")},
         "classifier_version": classifier["version"]}
        for d in classifier["divisions"]
    ])


def downgrade() -> None:
    op.drop_index("ix_sector_division_section_code", table_name="sector_division")
    op.drop_table("sector_division")
    op.drop_table("sector_section")
    op.drop_table("region")
