import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.disputes.tables import DisputesTable


class Complaint(DisputesTable, table=True):
    """A freedom-of-association complaint (ILO C87, C98) before the labour inspectorate.

    ``complainant_*`` is the shielded record: never in an employer-facing answer, listing,
    error or event, and every read of it is written to ``complaint_access``.
    """

    __tablename__ = "complaint"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: str = Field(sa_type=String(30), index=True)
    category: str = Field(sa_type=String(40))
    employer_id: uuid.UUID = Field(index=True)
    employer_name: str = Field(max_length=300)
    union_id: uuid.UUID | None = Field(default=None, index=True,
                                       description="The complainant's union (the complainant, or through it)")
    received_via: str = Field(sa_type=String(20), description="union or staff")
    complainant_name: str = Field(max_length=200)
    complainant_contact: str | None = Field(default=None, max_length=300)
    complainant_position: str | None = Field(default=None, max_length=200)
    description: str = Field(max_length=20000)
    received_on: date
    consideration_due: date
    rules_code: str = Field(max_length=60)
    overdue_since: date | None = None
    inspector: str | None = Field(default=None, max_length=200)
    inspection_started_on: date | None = None
    outcome: str | None = Field(default=None, sa_type=String(20))
    findings: str | None = Field(default=None, max_length=20000)
    findings_on: date | None = None
    closed_on: date | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class ComplaintAccess(DisputesTable, table=True):
    """Audit of a complaint: every read of its sensitive record and every decision on it. Rows are only added."""

    __tablename__ = "complaint_access"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    complaint_id: uuid.UUID = Field(foreign_key="complaint.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40, description="read, listed, received, inspection_started, findings, closed")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
