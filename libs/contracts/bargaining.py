"""Events produced by the bargaining service (stream BARGAINING_EVENTS, source /bargaining).

Every event of a negotiation names all its parties (every side) in the audience.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, Field

from contracts import contract
from kernel.deadlines import DeadlineEventData
from kernel.events import EventData


class Level(StrEnum):
    general = "general"  # republican, tripartite
    sectoral = "sectoral"
    regional = "regional"  # tripartite with the akimat
    enterprise = "enterprise"  # bipartite, one per employer


class Side(StrEnum):
    workers = "workers"  # one or more unions forming one joint body
    employers = "employers"
    government = "government"  # at tripartite levels


class ClauseCategory(StrEnum):
    pay = "pay"
    working_time = "working_time"
    occupational_safety = "occupational_safety"
    social_benefits = "social_benefits"
    union_conditions = "union_conditions"
    dispute_procedures = "dispute_procedures"
    amendment_procedure = "amendment_procedure"
    other = "other"


class NegotiationParty(BaseModel):
    organisation_id: uuid.UUID
    side: Side
    role: str = Field(description="initiator or addressee (or a co-initiator on the initiator's side)")


class _NegotiationEvent(EventData):
    negotiation_id: uuid.UUID
    level: Level
    status: str = Field(description="The negotiation's status after the change")

    def subject(self) -> str:
        return str(self.negotiation_id)


@contract
class NegotiationProposed(_NegotiationEvent):
    """A party proposed collective bargaining in writing; the addressees must enter within the period."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.negotiation.proposed.v1"

    initiator_id: uuid.UUID
    subject_matter: str = Field(description="The proposed subject of the negotiation")
    proposed_on: date
    entry_due: date = Field(description="Last day to enter negotiations (art. 156)")
    parties: list[NegotiationParty]


@contract
class NegotiationEntered(_NegotiationEvent):
    """Every addressee entered negotiations; late is true when it happened after the entry period."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.negotiation.entered.v1"

    entered_on: date
    late: bool = False


@contract
class NegotiationDeclined(_NegotiationEvent):
    """An addressee refused the proposal in writing."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.negotiation.declined.v1"

    declined_by: uuid.UUID
    declined_on: date
    reason: str


@contract
class NegotiationEvaded(_NegotiationEvent):
    """The entry period ran out with addressees not entered (art. 158: evading negotiations is an offence)."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.negotiation.evaded.v1"

    entry_due: date
    not_entered: list[uuid.UUID] = Field(description="The addressees that had not entered")


@contract
class CommissionConstituted(_NegotiationEvent):
    """The bargaining commission was constituted on a parity basis."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.commission.constituted.v1"

    members_by_side: dict[Side, int]


@contract
class ClauseProposed(_NegotiationEvent):
    """A side proposed a text for a clause (its first proposal or a counter-proposal): a new version."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.clause.proposed.v1"

    clause_id: uuid.UUID
    number: int
    category: ClauseCategory
    title: str
    version: int
    side: Side
    text: str


@contract
class ClauseAgreed(_NegotiationEvent):
    """Every side accepted the same version of a clause."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.clause.agreed.v1"

    clause_id: uuid.UUID
    number: int
    category: ClauseCategory
    title: str
    version: int
    after_signing: bool = Field(default=False, description="Agreed while in a protocol of disagreements")


@contract
class AgreementSigned(_NegotiationEvent):
    """Every side signed the agreement; open clauses, if any, are in a protocol of disagreements."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.agreement.signed.v1"

    signed_on: date
    agreed_clause_ids: list[uuid.UUID]
    with_disagreements: bool
    open_clause_ids: list[uuid.UUID] = Field(default_factory=list)


class SidePosition(BaseModel):
    side: Side
    version: int | None = Field(description="The side's last proposal, or null if it proposed no text")
    text: str | None


class OpenClause(BaseModel):
    clause_id: uuid.UUID
    number: int
    category: ClauseCategory
    title: str
    positions: list[SidePosition]


@contract
class DisagreementProtocolSigned(_NegotiationEvent):
    """The agreement was signed with a protocol of disagreements: the open clauses and each side's last position.

    The disputes service may start a collective dispute from it.
    """

    event_type: ClassVar[str] = "kz.ntc.bargaining.disagreement_protocol.signed.v1"

    protocol_id: uuid.UUID
    signed_on: date
    negotiate_until: date = Field(description="The parties keep negotiating the open clauses until this day")
    clauses: list[OpenClause]


@contract
class AgreementFiled(_NegotiationEvent):
    """The signed agreement was filed with the local labour authority."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.agreement.filed.v1"

    authority: str
    registration_number: str
    filed_on: date
    term_from: date
    term_to: date


@contract
class AgreementInForce(_NegotiationEvent):
    event_type: ClassVar[str] = "kz.ntc.bargaining.agreement.in_force.v1"

    in_force_from: date
    term_to: date


@contract
class AgreementExpired(_NegotiationEvent):
    event_type: ClassVar[str] = "kz.ntc.bargaining.agreement.expired.v1"

    expired_on: date


class AmendedClause(BaseModel):
    clause_id: uuid.UUID
    number: int
    title: str
    version: int = Field(description="The clause's version that the amendment made its agreed text")
    new: bool = Field(description="A clause the amendment added")


@contract
class AmendmentProposed(_NegotiationEvent):
    """A side proposed an amendment to an agreement (changed or new clauses, a new end of term)."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.amendment.proposed.v1"

    amendment_id: uuid.UUID
    amendment_number: int
    proposed_by_side: Side
    proposed_on: date
    summary: str
    term_to: date | None = Field(default=None, description="The end of term the amendment would set")


@contract
class AgreementAmended(_NegotiationEvent):
    """Every side signed an amendment: its clauses are now the agreed text, as a new version of the agreement."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.agreement.amended.v1"

    amendment_id: uuid.UUID
    amendment_number: int
    agreement_version: int = Field(description="1 for the agreement as signed, +1 for each amendment adopted")
    adopted_on: date
    clauses: list[AmendedClause]
    term_to: date | None = Field(default=None, description="The last day of the term after the amendment (none "
                                 "while the agreement is not yet filed)")


@contract
class AgreementTerminated(_NegotiationEvent):
    """The agreement ended before its term; unilateral when one party ended it alone."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.agreement.terminated.v1"

    terminated_on: date
    unilateral: bool
    terminated_by: uuid.UUID | None = Field(default=None, description="The party that ended it, if unilateral")
    reason: str


@contract
class DeadlineApproaching(DeadlineEventData):
    """A bargaining period is running out (the addressees' entry into negotiations)."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.deadline.approaching.v1"


@contract
class DeadlineMissed(DeadlineEventData):
    """A bargaining period ended unmet; for the entry period, the negotiation is recorded as evaded."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.deadline.missed.v1"


class _AccessionEvent(EventData):
    """A union's request to join an enterprise agreement in force; the union and the employer in the audience."""

    request_id: uuid.UUID
    negotiation_id: uuid.UUID = Field(description="The agreement (its negotiation) the union asks to join")
    union_id: uuid.UUID
    employer_id: uuid.UUID
    status: str = Field(description="The request's status after the change: pending, overdue, accepted, refused")
    answer_due: date = Field(description="Last day for the employer's written answer")

    def subject(self) -> str:
        return str(self.negotiation_id)


@contract
class AccessionRequested(_AccessionEvent):
    """A union asked to join an enterprise agreement in force; the employer's answer is due by answer_due."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.accession.requested.v1"

    requested_on: date


@contract
class AccessionAnswered(_AccessionEvent):
    """The employer answered: accepted (the union is now a party on the workers' side) or refused with reasons."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.accession.answered.v1"

    accepted: bool
    answered_on: date
    reasons: str | None = None
    late: bool = Field(default=False, description="Answered after answer_due")


@contract
class AccessionOverdue(_AccessionEvent):
    """The employer's answer period ran out with no answer; the delay is on the request's record."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.accession.overdue.v1"
