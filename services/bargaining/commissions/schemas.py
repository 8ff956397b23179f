import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.bargaining import (
    CommissionLevel,
    ConsultationStance,
    PartyPosition,
    PartyQuorum,
    Side,
)
from services.bargaining.commissions.rules import MemberRole
from services.bargaining.negotiations.schemas import Name, Short, Text

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentIn(_Request):
    title: Short
    reference: Short = Field(description="Where the document is: an address, a registration or file number")


class PartyIn(_Request):
    organisation_id: uuid.UUID
    side: Side


class CommissionCreate(_Request):
    name: Short
    level: CommissionLevel
    sector: Code | None = Field(default=None, description="OKED division; required for a sectoral commission")
    region_code: Code | None = Field(default=None, description="Required for a regional commission")
    chair_name: Name
    chair_position: Name
    secretariat: Short = Field(description="The body keeping the secretariat (e.g. the Ministry of Labour)")
    term_from: date
    term_to: date
    parties: list[PartyIn] = Field(min_length=3, max_length=60)

    @model_validator(mode="after")
    def _consistent(self) -> "CommissionCreate":
        if self.term_to <= self.term_from:
            raise ValueError("term_to must be after term_from")
        if self.level is CommissionLevel.sectoral and self.sector is None:
            raise ValueError("a sectoral commission names its sector")
        if self.level is CommissionLevel.regional and self.region_code is None:
            raise ValueError("a regional commission names its region_code")
        ids = [p.organisation_id for p in self.parties]
        if len(ids) != len(set(ids)):
            raise ValueError("an organisation sits for one party only, once")
        return self


class PartyPublic(BaseModel):
    organisation_id: uuid.UUID
    side: Side
    name_ru: str


class MemberIn(_Request):
    organisation_id: uuid.UUID | None = Field(default=None, description="The appointing organisation (staff name "
                                              "it; an organisation appoints for itself)")
    role: MemberRole = MemberRole.member
    name: Name
    position: Name
    term_from: date | None = Field(default=None, description="Default: the commission's term")
    term_to: date | None = None


class MemberPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    side: Side
    role: MemberRole
    name: str
    position: str
    term_from: date
    term_to: date
    recalled_on: date | None


class Recall(_Request):
    recalled_on: date | None = None


class CommissionPublic(BaseModel):
    id: uuid.UUID
    name: str
    level: CommissionLevel
    sector: str | None
    region_code: str | None
    chair_name: str
    chair_position: str
    secretariat: str
    term_from: date
    term_to: date
    parties: list[PartyPublic]
    members: list[MemberPublic] = Field(description="Members and alternates serving (not recalled)")
    max_members_per_party: int
    max_members_article: str
    max_members_verify: bool
    created_at: datetime


class CommissionPage(BaseModel):
    items: list[CommissionPublic]
    total: int


# --- sittings ------------------------------------------------------------------------------

class SittingCreate(_Request):
    held_on: date
    place: Short | None = None
    remote: bool = False

    @model_validator(mode="after")
    def _somewhere(self) -> "SittingCreate":
        if self.place is None and not self.remote:
            raise ValueError("a sitting is held in a place or remotely")
        return self


class AgendaItemIn(_Request):
    title: Title
    summary: Summary | None = None
    side: Side | None = Field(default=None, description="The proposing party (staff name it; an organisation "
                                                        "proposes for its own party)")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=30)


class AgendaItemPublic(BaseModel):
    number: int
    title: str
    summary: str | None
    side: Side
    documents: list[DocumentIn]


class AttendanceIn(_Request):
    present: list[uuid.UUID] = Field(max_length=200, description="Members and alternates present")
    remote: list[uuid.UUID] = Field(default_factory=list, max_length=200, description="Those of them who took part "
                                    "remotely")


class PositionIn(_Request):
    side: Side
    position: PartyPosition
    text: Summary | None = None


class DecisionIn(_Request):
    text: Text
    agenda_item_number: int | None = Field(default=None, ge=1, le=10000)
    positions: list[PositionIn] = Field(min_length=3, max_length=3)


class DecisionPublic(BaseModel):
    id: uuid.UUID
    number: int
    agenda_item_number: int | None
    text: str
    positions: list[PositionIn]
    adopted: bool
    rules: str


class MinutesIn(_Request):
    text: Text
    documents: list[DocumentIn] = Field(default_factory=list, max_length=30)
    published_on: date | None = None


class SittingPublic(BaseModel):
    id: uuid.UUID
    commission_id: uuid.UUID
    number: int
    held_on: date
    place: str | None
    remote: bool
    status: str
    agenda: list[AgendaItemPublic]
    attendance: list[dict[str, object]]
    quorum: list[PartyQuorum]
    quorum_met: bool | None
    decisions: list[DecisionPublic]
    minutes: str | None
    minutes_documents: list[DocumentIn]
    minutes_published_on: date | None


# --- consultations -------------------------------------------------------------------------

class ConsultationCreate(_Request):
    title: Title
    summary: Summary | None = None
    documents: list[DocumentIn] = Field(min_length=1, max_length=30, description="The draft and its annexes")
    side: Side | None = Field(default=None, description="The party putting the draft forward (staff name it)")
    opened_on: date | None = None
    working_days: int | None = Field(default=None, ge=1, le=60, description="Period for positions in working days "
                                     "(default: the rule in force)")


class ConsultationPositionIn(_Request):
    side: Side | None = Field(default=None, description="Staff name the party; an organisation files for its own")
    position: ConsultationStance
    text: Text
    filed_on: date | None = None


class ConsultationPositionPublic(BaseModel):
    side: Side
    position: ConsultationStance | None
    text: str | None
    filed_on: date | None
    late: bool
    overdue: bool = Field(description="Missing at the deadline (and flagged so, even if filed later)")


class ConsultationResultIn(_Request):
    result: Text
    closed_on: date | None = None


class ConsultationPublic(BaseModel):
    id: uuid.UUID
    commission_id: uuid.UUID
    title: str
    summary: str | None
    documents: list[DocumentIn]
    opened_by_side: Side
    opened_on: date
    working_days: int
    positions_due: date
    positions_article: str
    status: str
    positions: list[ConsultationPositionPublic] = Field(description="Every party side by side")
    result: str | None
    closed_on: date | None


# --- information ---------------------------------------------------------------------------

class NoticeIn(_Request):
    title: Title
    body: Text
    documents: list[DocumentIn] = Field(default_factory=list, max_length=30)
    side: Side | None = Field(default=None, description="Staff share as the secretariat (no side); an "
                                                        "organisation shares for its own party")


class ReceiptPublic(BaseModel):
    organisation_id: uuid.UUID
    side: Side
    read_at: datetime


class NoticePublic(BaseModel):
    id: uuid.UUID
    commission_id: uuid.UUID
    title: str
    body: str
    documents: list[DocumentIn]
    shared_by_side: Side | None
    shared_on: date
    receipts: list[ReceiptPublic]
    unread_by: list[uuid.UUID] = Field(description="Organisations of the commission that have not read it")
