import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.bargaining import ClauseCategory, Level, OpenClause, Side

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyOnSide(_Request):
    organisation_id: uuid.UUID
    side: Side


class NegotiationCreate(_Request):
    """A written proposal to bargain: who proposes, to whom, about what, on which day."""

    level: Level
    subject_matter: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
    initiator_id: uuid.UUID = Field(description="The proposing party (an organisation acts only for itself)")
    parties: list[PartyOnSide] = Field(min_length=2, max_length=50, description="Every party, the initiator "
                                       "included; those on the initiator's side are co-initiators, the rest "
                                       "addressees")
    proposed_on: date | None = Field(default=None, description="The day of the written proposal (default: today)")


class Entry(_Request):
    organisation_id: uuid.UUID | None = Field(default=None, description="The addressee entering (staff name it; "
                                              "an organisation enters for itself)")
    entered_on: date | None = None


class Declining(_Request):
    organisation_id: uuid.UUID | None = None
    declined_on: date | None = None
    reason: Reason


class MemberIn(_Request):
    organisation_id: uuid.UUID = Field(description="The party whose officer this is")
    name: Name
    position: Name


class CommissionSide(_Request):
    members: list[MemberIn] = Field(max_length=50)


class ClauseCreate(_Request):
    category: ClauseCategory
    title: Short
    text: Text
    side: Side | None = Field(default=None, description="The proposing side (staff name it; an organisation "
                              "proposes for its own side)")


class ClauseProposal(_Request):
    text: Text
    side: Side | None = None


class Acceptance(_Request):
    version: int = Field(ge=1, description="The version accepted: it must be the current one")
    side: Side | None = None


class MeetingCreate(_Request):
    held_on: date
    minutes: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50000)]
    attendees: dict[Side, list[Name]] = Field(description="Names of the officers present, by side")


class SignatureIn(_Request):
    side: Side | None = None
    signatory_name: Name
    signatory_position: Name
    signed_on: date | None = None


class FilingIn(_Request):
    authority: Short = Field(description="The local labour authority")
    registration_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    filed_on: date
    term_from: date
    term_to: date
    workers_covered: int | None = Field(default=None, ge=0, le=10_000_000,
                                        description="Workers the agreement covers (optional here; PUT "
                                                    "/agreements/{id}/coverage later)")
    region_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = Field(
        default=None, description="With workers_covered: default the employer's region in the register")
    sector: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{2}$")] | None = Field(
        default=None, description="With workers_covered: the OKED division, two digits")


class InForce(_Request):
    in_force_from: date | None = None


class Expiry(_Request):
    expired_on: date | None = None


class Termination(_Request):
    terminated_on: date | None = None
    unilateral: bool = Field(description="True when one party ends it alone")
    terminated_by: uuid.UUID | None = Field(default=None, description="The party that ended it (unilateral)")
    reason: Reason


class PartyPublic(BaseModel):
    organisation_id: uuid.UUID
    side: Side
    role: str
    name_ru: str
    entered_on: date | None


class MemberPublic(BaseModel):
    id: uuid.UUID
    side: Side
    organisation_id: uuid.UUID
    name: str
    position: str


class SignaturePublic(BaseModel):
    side: Side
    signatory_name: str
    signatory_position: str
    signed_on: date


class ProtocolPublic(BaseModel):
    id: uuid.UUID
    signed_on: date
    negotiate_until: date
    clauses: list[OpenClause]


class NegotiationPublic(BaseModel):
    id: uuid.UUID
    level: Level
    status: str
    subject_matter: str
    initiator_id: uuid.UUID
    proposed_on: date
    entry_due: date
    entry_article: str
    entered_on: date | None
    parties: list[PartyPublic]
    commission: list[MemberPublic]
    parity: str | None = Field(description="Why the commission is not on a parity basis, or null when it is")
    signatures: list[SignaturePublic]
    signed_on: date | None
    with_disagreements: bool
    disagreement_protocols: list[ProtocolPublic]
    authority: str | None
    registration_number: str | None
    filed_on: date | None
    term_from: date | None
    term_to: date | None
    ended_on: date | None
    unilateral: bool | None
    terminated_by: uuid.UUID | None
    end_reason: str | None
    declined_reason: str | None
    allowed_actions: list[str]
    updated_at: datetime
    version: int


class NegotiationPage(BaseModel):
    items: list[NegotiationPublic]
    total: int


class ClauseVersionPublic(BaseModel):
    number: int
    side: Side
    text: str
    proposed_by: str
    created_at: datetime


class ClausePublic(BaseModel):
    id: uuid.UUID
    negotiation_id: uuid.UUID
    number: int
    category: ClauseCategory
    title: str
    status: str
    current_version: int
    agreed_version: int | None
    accepted: dict[Side, int]
    in_protocol: bool
    versions: list[ClauseVersionPublic]
    version: int


class MeetingPublic(BaseModel):
    id: uuid.UUID
    held_on: date
    minutes: str
    attendees: dict[Side, list[str]]
    recorded_by: str
