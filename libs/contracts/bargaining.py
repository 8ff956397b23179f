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


# --- tripartite commissions: sittings, decisions, consultations, information, commitments --------
# Every commission event names every organisation sitting in the commission (all three parties);
# a commitment's events name every party to its agreement.

class CommissionLevel(StrEnum):
    republican = "republican"  # the Republican Tripartite Commission
    sectoral = "sectoral"
    regional = "regional"


class PartyPosition(StrEnum):
    """A party's position on a decision of a sitting."""

    for_ = "for"
    against = "against"
    abstain = "abstain"
    with_reservations = "with_reservations"


class ConsultationStance(StrEnum):
    """A party's position on a draft put before the commission for consultation."""

    support = "support"
    support_with_amendments = "support_with_amendments"
    oppose = "oppose"


class DocumentReference(BaseModel):
    title: str
    reference: str = Field(description="Where the document is: an address, a registration or file number")


class _CommissionEvent(EventData):
    commission_id: uuid.UUID
    commission_level: CommissionLevel

    def subject(self) -> str:
        return str(self.commission_id)


@contract
class SittingScheduled(_CommissionEvent):
    """The secretariat scheduled a sitting of the commission (in a place, or remote)."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.sitting.scheduled.v1"

    sitting_id: uuid.UUID
    number: int
    held_on: date
    place: str | None = None
    remote: bool = False


@contract
class SittingCancelled(_CommissionEvent):
    """The secretariat cancelled a sitting before it was held."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.sitting.cancelled.v1"

    sitting_id: uuid.UUID
    number: int
    held_on: date


@contract
class AgendaItemProposed(_CommissionEvent):
    """A party (or the secretariat for it) put an item on a sitting's agenda, with its documents."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.agenda_item.proposed.v1"

    sitting_id: uuid.UUID
    item_number: int
    title: str
    proposed_by_side: Side
    documents: list[DocumentReference] = Field(default_factory=list)


class DecisionPosition(BaseModel):
    side: Side
    position: PartyPosition
    text: str | None = None


@contract
class DecisionRecorded(_CommissionEvent):
    """A decision taken at a sitting (held with a quorum of every party), with each party's position."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.decision.recorded.v1"

    sitting_id: uuid.UUID
    decision_id: uuid.UUID
    decision_number: int
    agenda_item_number: int | None = None
    text: str
    positions: list[DecisionPosition]
    adopted: bool = Field(description="Adopted under the decision rule in force (see the commission rules)")


class PartyQuorum(BaseModel):
    side: Side
    members: int = Field(description="Members appointed by the party")
    present: int = Field(description="Members present, alternates standing in for absent members counted")
    required: int
    met: bool


@contract
class MinutesPublished(_CommissionEvent):
    """The minutes of a sitting were published to the parties."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.minutes.published.v1"

    sitting_id: uuid.UUID
    number: int
    held_on: date
    published_on: date
    quorum: list[PartyQuorum]
    decisions: int


@contract
class ConsultationOpened(_CommissionEvent):
    """A party put a draft regulation or policy before the commission; positions are due by positions_due."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.consultation.opened.v1"

    consultation_id: uuid.UUID
    title: str
    opened_by_side: Side
    opened_on: date
    positions_due: date = Field(description="Last day for the parties' positions (working days, rule data)")
    documents: list[DocumentReference] = Field(default_factory=list)


@contract
class PositionFiled(_CommissionEvent):
    """A party filed its position on a draft under consultation."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.position.filed.v1"

    consultation_id: uuid.UUID
    side: Side
    position: ConsultationStance
    filed_on: date
    late: bool = Field(default=False, description="Filed after positions_due")


class ConsultationPositionSummary(BaseModel):
    side: Side
    position: ConsultationStance | None = Field(description="Null when the party filed none")
    overdue: bool


@contract
class ConsultationClosed(_CommissionEvent):
    """The result of a consultation was published to the parties."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.consultation.closed.v1"

    consultation_id: uuid.UUID
    closed_on: date
    result: str
    positions: list[ConsultationPositionSummary]


@contract
class NoticeShared(_CommissionEvent):
    """Information (a notice with documents) shared with every party of the commission."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.notice.shared.v1"

    notice_id: uuid.UUID
    title: str
    shared_on: date
    shared_by_side: Side | None = Field(default=None, description="Null when the secretariat shared it")
    documents: list[DocumentReference] = Field(default_factory=list)


class CommitmentStatus(StrEnum):
    on_track = "on_track"
    late = "late"
    done = "done"
    not_done = "not_done"


class _CommitmentEvent(EventData):
    commitment_id: uuid.UUID
    negotiation_id: uuid.UUID = Field(description="The agreement (its negotiation) the commitment comes from")
    number: int
    responsible_side: Side
    due_on: date
    status: CommitmentStatus = Field(description="The commitment's status after the change")

    def subject(self) -> str:
        return str(self.commitment_id)


@contract
class ProgressReported(_CommitmentEvent):
    """The responsible party reported progress on a commitment, with evidence."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.commitment.progress_reported.v1"

    reported_on: date
    outcome: str = Field(description="in_progress, done or not_done")
    evidence: list[DocumentReference] = Field(default_factory=list)


@contract
class CommitmentLate(_CommitmentEvent):
    """A commitment's due date passed without a report that it was done."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.commitment.late.v1"


@contract
class CommitmentFulfilled(_CommitmentEvent):
    """The responsible party reported a commitment done (late is true when after its due date)."""

    event_type: ClassVar[str] = "kz.ntc.bargaining.commitment.fulfilled.v1"

    fulfilled_on: date
    late: bool = False
