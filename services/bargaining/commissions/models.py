import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.bargaining.tables import BargainingTable


class Commission(BargainingTable, table=True):
    """A tripartite commission (republican, sectoral or regional) with its chair, secretariat and term of office."""

    __tablename__ = "commission"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=300)
    level: str = Field(sa_type=String(20), index=True, description="republican, sectoral or regional")
    sector: str | None = Field(default=None, max_length=20, description="OKED division, for a sectoral commission")
    region_code: str | None = Field(default=None, max_length=20, description="For a regional commission")
    chair_name: str = Field(max_length=200)
    chair_position: str = Field(max_length=200)
    secretariat: str = Field(max_length=300, description="The body that keeps the commission's secretariat")
    term_from: date
    term_to: date
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommissionParty(BargainingTable, table=True):
    """An organisation sitting in a commission for one of the three parties."""

    __tablename__ = "commission_party"

    commission_id: uuid.UUID = Field(foreign_key="commission.id", primary_key=True)
    organisation_id: uuid.UUID = Field(primary_key=True, index=True)
    side: str = Field(sa_type=String(20), description="government, employers or workers")
    name_ru: str = Field(max_length=300)


class CommissionSeat(BargainingTable, table=True):
    """A member or alternate appointed by an organisation of a party, for a term of office."""

    __tablename__ = "commission_seat"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    commission_id: uuid.UUID = Field(foreign_key="commission.id", index=True)
    organisation_id: uuid.UUID = Field(description="The appointing organisation")
    side: str = Field(sa_type=String(20))
    role: str = Field(sa_type=String(20), description="member or alternate")
    name: str = Field(max_length=200)
    position: str = Field(max_length=200)
    term_from: date
    term_to: date
    recalled_on: date | None = None
    appointed_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Sitting(BargainingTable, table=True):
    __tablename__ = "commission_sitting"
    __table_args__ = (UniqueConstraint("commission_id", "number", name="uq_sitting_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    commission_id: uuid.UUID = Field(foreign_key="commission.id", index=True)
    number: int
    held_on: date
    place: str | None = Field(default=None, max_length=300)
    remote: bool = False
    status: str = Field(sa_type=String(20), description="scheduled, held, minutes_published or cancelled")
    attendance: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON,
                                             description="member_id, side, role, remote")
    quorum: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, description="per party")
    quorum_met: bool | None = None
    minutes: str | None = Field(default=None, max_length=20000)
    minutes_documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    minutes_published_on: date | None = None
    scheduled_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgendaItem(BargainingTable, table=True):
    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("sitting_id", "number", name="uq_agenda_item_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    sitting_id: uuid.UUID = Field(foreign_key="commission_sitting.id", index=True)
    number: int
    title: str = Field(max_length=500)
    summary: str | None = Field(default=None, max_length=4000)
    side: str = Field(sa_type=String(20), description="The party that proposed it")
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    proposed_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Decision(BargainingTable, table=True):
    __tablename__ = "commission_decision"
    __table_args__ = (UniqueConstraint("sitting_id", "number", name="uq_decision_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    sitting_id: uuid.UUID = Field(foreign_key="commission_sitting.id", index=True)
    number: int
    agenda_item_number: int | None = None
    text: str = Field(max_length=20000)
    positions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, description="side, position, text")
    adopted: bool
    rules: str = Field(max_length=60, description="The rule set the outcome was decided under")
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Consultation(BargainingTable, table=True):
    """A draft regulation or policy put before the commission for the parties' positions."""

    __tablename__ = "consultation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    commission_id: uuid.UUID = Field(foreign_key="commission.id", index=True)
    title: str = Field(max_length=500)
    summary: str | None = Field(default=None, max_length=4000)
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    opened_by_side: str = Field(sa_type=String(20))
    opened_on: date
    working_days: int
    positions_due: date
    status: str = Field(sa_type=String(20), description="open or closed")
    overdue_sides: list[str] = Field(default_factory=list, sa_type=JSON,
                                     description="Parties whose position was missing at the deadline")
    result: str | None = Field(default=None, max_length=20000)
    closed_on: date | None = None
    opened_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsultationPosition(BargainingTable, table=True):
    __tablename__ = "consultation_position"

    consultation_id: uuid.UUID = Field(foreign_key="consultation.id", primary_key=True)
    side: str = Field(sa_type=String(20), primary_key=True)
    position: str = Field(sa_type=String(30), description="support, support_with_amendments or oppose")
    text: str = Field(max_length=20000)
    filed_on: date
    late: bool = False
    filed_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Notice(BargainingTable, table=True):
    """Information shared with every party of a commission."""

    __tablename__ = "commission_notice"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    commission_id: uuid.UUID = Field(foreign_key="commission.id", index=True)
    title: str = Field(max_length=500)
    body: str = Field(max_length=20000)
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    shared_by_side: str | None = Field(default=None, sa_type=String(20))
    shared_on: date
    shared_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NoticeReceipt(BargainingTable, table=True):
    __tablename__ = "notice_receipt"

    notice_id: uuid.UUID = Field(foreign_key="commission_notice.id", primary_key=True)
    organisation_id: uuid.UUID = Field(primary_key=True)
    side: str = Field(sa_type=String(20))
    read_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
