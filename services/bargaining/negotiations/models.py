import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.bargaining.tables import BargainingTable


class Negotiation(BargainingTable, table=True):
    """One collective bargaining, from the written proposal to the agreement's end."""

    __tablename__ = "negotiation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    level: str = Field(sa_type=String(20), index=True)
    status: str = Field(sa_type=String(20), index=True)
    subject_matter: str = Field(max_length=2000, description="The proposed subject")
    initiator_id: uuid.UUID
    proposed_on: date
    entry_due: date
    entered_on: date | None = None
    rules_code: str = Field(max_length=60, description="The bargaining rules in force on the proposal date")
    signed_on: date | None = None
    with_disagreements: bool = False
    authority: str | None = Field(default=None, max_length=300)
    registration_number: str | None = Field(default=None, max_length=100)
    filed_on: date | None = None
    term_from: date | None = None
    term_to: date | None = None
    ended_on: date | None = Field(default=None, description="Expired or terminated on")
    unilateral: bool | None = None
    terminated_by: uuid.UUID | None = None
    end_reason: str | None = Field(default=None, max_length=2000)
    declined_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class NegotiationParty(BargainingTable, table=True):
    """An organisation at the table: its side and whether it initiated or was addressed."""

    __tablename__ = "negotiation_party"

    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", primary_key=True)
    organisation_id: uuid.UUID = Field(primary_key=True, index=True)
    side: str = Field(sa_type=String(20))
    role: str = Field(sa_type=String(20), description="initiator, co_initiator or addressee")
    name_ru: str = Field(max_length=300, description="The name when it joined (the register may rename it later)")
    entered_on: date | None = Field(default=None, description="When an addressee entered negotiations")


class CommissionMember(BargainingTable, table=True):
    """A member of the bargaining commission: a public officer of a party, by name and position only."""

    __tablename__ = "commission_member"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", index=True)
    side: str = Field(sa_type=String(20))
    organisation_id: uuid.UUID
    name: str = Field(max_length=200)
    position: str = Field(max_length=200)


class Clause(BargainingTable, table=True):
    """A clause on the agenda. ``version`` is its ETag; ``current_version`` the number of its latest text."""

    __tablename__ = "clause"
    __table_args__ = (UniqueConstraint("negotiation_id", "number", name="uq_clause_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", index=True)
    number: int
    category: str = Field(sa_type=String(40))
    title: str = Field(max_length=300)
    status: str = Field(sa_type=String(20), description="open or agreed")
    current_version: int = 1
    agreed_version: int | None = None
    accepted: dict[str, Any] = Field(default_factory=dict, sa_type=JSON,
                                     description="side -> the version number that side accepted")
    in_protocol: bool = Field(default=False, description="Left open in a signed protocol of disagreements")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class ClauseVersion(BargainingTable, table=True):
    """One text of a clause as a side proposed it. Never changed, never deleted."""

    __tablename__ = "clause_version"
    __table_args__ = (UniqueConstraint("clause_id", "number", name="uq_clause_version_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    clause_id: uuid.UUID = Field(foreign_key="clause.id", index=True)
    number: int
    side: str = Field(sa_type=String(20))
    text: str = Field(max_length=20000)
    proposed_by: str = Field(max_length=200, description="Who recorded it (organisation or staff)")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Meeting(BargainingTable, table=True):
    """A sitting of the commission and its minutes; attendees by side, named as officers of the parties."""

    __tablename__ = "meeting"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", index=True)
    held_on: date
    minutes: str = Field(max_length=50000)
    attendees: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Signature(BargainingTable, table=True):
    """One side's signature of the agreement (and of its protocol of disagreements, if any)."""

    __tablename__ = "signature"

    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", primary_key=True)
    side: str = Field(sa_type=String(20), primary_key=True)
    signatory_name: str = Field(max_length=200)
    signatory_position: str = Field(max_length=200)
    signed_on: date
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DisagreementProtocol(BargainingTable, table=True):
    """The open clauses at signing, each with every side's last position, as signed."""

    __tablename__ = "disagreement_protocol"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", index=True)
    signed_on: date
    negotiate_until: date
    clauses: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
