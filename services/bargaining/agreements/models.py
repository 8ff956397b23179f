import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.bargaining.tables import BargainingTable


class AccessionRequest(BargainingTable, table=True):
    """A union's request to join an enterprise agreement in force, with the employer's answer or its delay."""

    __tablename__ = "accession_request"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", index=True)
    union_id: uuid.UUID = Field(index=True)
    union_name_ru: str = Field(max_length=300)
    employer_id: uuid.UUID = Field(index=True)
    status: str = Field(sa_type=String(20), description="pending, overdue, accepted or refused")
    requested_on: date
    answer_due: date
    note: str | None = Field(default=None, max_length=2000)
    overdue_since: date | None = Field(default=None, description="The first day after the period, if it ran out")
    answered_on: date | None = None
    reasons: str | None = Field(default=None, max_length=2000, description="Why the employer refused")
    requested_by: str = Field(max_length=200)
    answered_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementCoverage(BargainingTable, table=True):
    """Workers covered by a concluded agreement, with its region and sector. ``version`` is its ETag."""

    __tablename__ = "agreement_coverage"

    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", primary_key=True)
    workers_covered: int
    region_code: str | None = Field(default=None, max_length=20, index=True)
    sector: str | None = Field(default=None, max_length=20, index=True,
                               description="Classifier of economic activities (OKED) division")
    recorded_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class EmployeesFigures(BargainingTable, table=True):
    """Employees in a year (the denominator of the coverage rate): national, by region, by sector."""

    __tablename__ = "employees_figures"

    year: int = Field(primary_key=True)
    national: int
    by_region: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    by_sector: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    source: str | None = Field(default=None, max_length=300)
    recorded_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
