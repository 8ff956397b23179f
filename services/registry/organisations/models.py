import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field

from contracts.registry import OrganisationKind, OrganisationStatus
from kernel.db import UTCDateTime, utcnow
from services.registry.tables import RegistryTable


class Organisation(RegistryTable, table=True):
    __tablename__ = "organisation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: OrganisationKind = Field(sa_type=String(60), index=True)
    name_kk: str = Field(max_length=300)
    name_ru: str = Field(max_length=300, index=True)
    name_en: str | None = Field(default=None, max_length=300)
    # Every name, normalised by register.rules.search_text (SQLite cannot fold Cyrillic case itself).
    search_name: str = Field(default="", max_length=1000, index=True)
    bin: str | None = Field(default=None, max_length=12, unique=True)
    region_code: str | None = Field(default=None, max_length=20, index=True)
    legal_address: str | None = Field(default=None, max_length=500)
    # Officers (chair, deputies) are public by law: a list of {"role": ..., "name": ...}.
    officers: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status: OrganisationStatus = Field(default=OrganisationStatus.registered, sa_type=String(40), index=True)
    parent_id: uuid.UUID | None = Field(default=None, index=True)
    registered_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=True)
    status_confirmation_due: date | None = None
    confirmed_on: date | None = None
    lapsed_on: date | None = None
    liquidated_on: date | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class OrganisationSector(RegistryTable, table=True):
    """The sectors (classifier divisions) an organisation works in."""

    __tablename__ = "organisation_sector"

    organisation_id: uuid.UUID = Field(primary_key=True, foreign_key="organisation.id")
    division_code: str = Field(primary_key=True, max_length=2, index=True)


class Affiliation(RegistryTable, table=True):
    """One period of membership of a higher-tier organisation; the full history is kept."""

    __tablename__ = "affiliation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    parent_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    valid_from: date
    valid_to: date | None = None
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HistoryEntry(RegistryTable, table=True):
    """Every step in an organisation's life in the register, visible to the organisation itself."""

    __tablename__ = "organisation_history"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: str = Field(max_length=60)
    actor: str = Field(max_length=200, description="Who acted: staff:<id>, organisation:<id> or system")
    application_id: uuid.UUID | None = None
    rule_set_code: str | None = Field(default=None, max_length=60)
    rule_set_revision: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class MembershipReport(RegistryTable, table=True):
    """Membership counts for one organisation and one year. Counts only, never names."""

    __tablename__ = "membership_report"
    __table_args__ = (UniqueConstraint("organisation_id", "year", name="uq_membership_report_year"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    year: int = Field(index=True)
    total: int
    women: int
    under_35: int
    by_region: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reported_by: str = Field(max_length=200)
