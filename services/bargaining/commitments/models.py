import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.bargaining.tables import BargainingTable


class Commitment(BargainingTable, table=True):
    """One thing a concluded agreement promised: what, which party answers for it, by when, measured how."""

    __tablename__ = "commitment"
    __table_args__ = (UniqueConstraint("negotiation_id", "number", name="uq_commitment_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", index=True)
    number: int
    clause_number: int | None = Field(default=None, description="The agreement's clause it comes from, if given")
    what: str = Field(max_length=4000)
    responsible_side: str = Field(sa_type=String(20), index=True)
    responsible_id: uuid.UUID | None = Field(default=None, index=True, description="The responsible organisation, "
                                             "when one party to the agreement answers for it alone")
    due_on: date
    indicator: str = Field(max_length=2000)
    status: str = Field(sa_type=String(20), index=True, description="on_track, late, done or not_done")
    late_since: date | None = None
    closed_on: date | None = Field(default=None, description="Reported done or not done on")
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProgressReport(BargainingTable, table=True):
    __tablename__ = "commitment_report"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    commitment_id: uuid.UUID = Field(foreign_key="commitment.id", index=True)
    reported_on: date
    outcome: str = Field(sa_type=String(20), description="in_progress, done or not_done")
    progress: str = Field(max_length=20000)
    indicator_value: str | None = Field(default=None, max_length=300)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    reported_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
