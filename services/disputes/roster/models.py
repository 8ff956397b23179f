import uuid
from datetime import date, datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.disputes.tables import DisputesTable


class RosterMember(DisputesTable, table=True):
    """A mediator or a labour arbitrator the ministry keeps on its roster."""

    __tablename__ = "roster_member"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(sa_type=String(20), index=True, description="mediator or arbitrator")
    specialisations: list[str] = Field(default_factory=list, sa_type=JSON)
    regions: list[str] = Field(default_factory=list, sa_type=JSON, description="KATO codes served; empty: all")
    languages: list[str] = Field(default_factory=list, sa_type=JSON, description="kk, ru, en ...")
    available: bool = True
    affiliations: list[str] = Field(default_factory=list, sa_type=JSON,
                                    description="Organisation ids the person is linked to (conflict of interest)")
    last_assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                              description="When rotation last gave (or staff gave) a dispute")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class RosterAssignment(DisputesTable, table=True):
    """A roster member assigned to a collective dispute, and the written consent when given."""

    __tablename__ = "roster_assignment"
    __table_args__ = (UniqueConstraint("dispute_id", "member_id", name="uq_roster_assignment_member"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dispute_id: uuid.UUID = Field(foreign_key="collective_dispute.id", index=True)
    member_id: uuid.UUID = Field(foreign_key="roster_member.id", index=True)
    kind: str = Field(sa_type=String(20))
    assigned_on: date
    by_rotation: bool = Field(description="Chosen by rotation rather than named by staff")
    assigned_by: str = Field(max_length=200)
    consent_on: date | None = None
    consent_document: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
