"""Events produced by the disputes service (stream DISPUTES_EVENTS, source /disputes).

Every event of a collective dispute names both parties (the workers' union, when the
workers are represented by one, and the employer) in the audience.
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


class AnswerOutcome(StrEnum):
    accepted = "accepted"
    partly_accepted = "partly_accepted"
    rejected = "rejected"


class Demand(BaseModel):
    number: int = Field(ge=1)
    text: str


class StrikeWarning(BaseModel):
    """A strike check that failed at the decision: recorded with it, never a bar to it."""

    rule: str = Field(description="e.g. prohibited_category, restricted_sector, quorum, majority, notice")
    code: str | None = Field(default=None, description="The category or sector code, where one applies")
    detail: str
    article: str
    verify: bool = Field(default=False, description="True where the rule is not confirmed from the primary text")


class _DisputeEvent(EventData):
    dispute_id: uuid.UUID
    status: str = Field(description="The dispute's status after the change")
    previous_status: str | None = Field(default=None, description="The status before the change")
    on: date = Field(description="The day the change took effect")
    outcome: str | None = Field(default=None, description="The outcome of the stage that ended, as recorded")

    def subject(self) -> str:
        return str(self.dispute_id)


@contract
class DemandsSubmitted(_DisputeEvent):
    """Employees or their representatives put demands to the employer in writing (art. 163)."""

    event_type: ClassVar[str] = "kz.ntc.disputes.demands.submitted.v1"

    union_id: uuid.UUID | None = Field(default=None, description="The union putting the demands, if any")
    employer_id: uuid.UUID
    workers_concerned: int
    demands: list[Demand]
    answer_due: date = Field(description="Last day for the employer's written answer (art. 163 p. 2)")


@contract
class EmployerAnswered(_DisputeEvent):
    """The employer answered the demands in writing."""

    event_type: ClassVar[str] = "kz.ntc.disputes.employer.answered.v1"

    answer: AnswerOutcome
    late: bool = False


@contract
class AnswerOverdue(_DisputeEvent):
    """The employer's answer period ran out with no written answer recorded."""

    event_type: ClassVar[str] = "kz.ntc.disputes.answer.overdue.v1"

    answer_due: date


@contract
class ConciliationStarted(_DisputeEvent):
    """The dispute went to the conciliation commission (parity; art. 165)."""

    event_type: ClassVar[str] = "kz.ntc.disputes.conciliation.started.v1"

    conciliation_due: date = Field(description="Last day for the commission to consider the dispute")


@contract
class MediationStarted(_DisputeEvent):
    """A mediator took the dispute, with written consent."""

    event_type: ClassVar[str] = "kz.ntc.disputes.mediation.started.v1"

    mediator_name: str
    consent_on: date
    mediator_id: uuid.UUID | None = Field(default=None, description="The roster's mediator, when one was assigned "
                                          "(also in the audience of the dispute's later events)")


@contract
class ArbitrationStarted(_DisputeEvent):
    """The dispute went to labour arbitration (art. 166)."""

    event_type: ClassVar[str] = "kz.ntc.disputes.arbitration.started.v1"


@contract
class StrikeDecided(_DisputeEvent):
    """A meeting (conference) of employees decided to strike; any failed checks are recorded with it."""

    event_type: ClassVar[str] = "kz.ntc.disputes.strike.decided.v1"

    strike_starts_on: date | None = None
    warnings: list[StrikeWarning] = Field(default_factory=list)


@contract
class StrikeStarted(_DisputeEvent):
    """The strike began (or resumed after a suspension)."""

    event_type: ClassVar[str] = "kz.ntc.disputes.strike.started.v1"


@contract
class StrikeSuspended(_DisputeEvent):
    event_type: ClassVar[str] = "kz.ntc.disputes.strike.suspended.v1"


@contract
class StrikeRuled(_DisputeEvent):
    """A court ruled on the strike's legality."""

    event_type: ClassVar[str] = "kz.ntc.disputes.strike.ruled.v1"

    legal: bool
    court: str


@contract
class DisputeSettled(_DisputeEvent):
    event_type: ClassVar[str] = "kz.ntc.disputes.dispute.settled.v1"


@contract
class DisputeWithdrawn(_DisputeEvent):
    event_type: ClassVar[str] = "kz.ntc.disputes.dispute.withdrawn.v1"


@contract
class DisputeClosed(_DisputeEvent):
    event_type: ClassVar[str] = "kz.ntc.disputes.dispute.closed.v1"


@contract
class DeadlineApproaching(DeadlineEventData):
    """A statutory period of a dispute (the employer's answer, conciliation) is about to end."""

    event_type: ClassVar[str] = "kz.ntc.disputes.deadline.approaching.v1"


@contract
class DeadlineMissed(DeadlineEventData):
    """A statutory period of a dispute ended with its obligation not met."""

    event_type: ClassVar[str] = "kz.ntc.disputes.deadline.missed.v1"


# --- roster, stalled stages, drafts from bargaining (D2) -------------------------------------

@contract
class RosterMemberAssigned(EventData):
    """A mediator or arbitrator from the roster was assigned to a collective dispute (no affiliation with a party).

    The audience holds both parties and the roster member's id.
    """

    event_type: ClassVar[str] = "kz.ntc.disputes.roster.assigned.v1"

    assignment_id: uuid.UUID
    dispute_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    kind: str = Field(description="mediator or arbitrator")
    assigned_on: date
    by_rotation: bool = Field(description="Chosen by rotation (the least recently assigned first)")

    def subject(self) -> str:
        return str(self.dispute_id)


@contract
class RosterConsentRecorded(EventData):
    """The assigned mediator or arbitrator consented in writing to take the dispute."""

    event_type: ClassVar[str] = "kz.ntc.disputes.roster.consent_recorded.v1"

    assignment_id: uuid.UUID
    dispute_id: uuid.UUID
    member_id: uuid.UUID
    consent_on: date
    consent_document: str | None = None

    def subject(self) -> str:
        return str(self.dispute_id)


@contract
class DisputeStalled(_DisputeEvent):
    """A stage of the dispute lasted longer than its limit (sent once per stage; the limits are rule data)."""

    event_type: ClassVar[str] = "kz.ntc.disputes.dispute.stalled.v1"

    stage: str
    stage_number: int
    started_on: date
    limit_days: int


class DraftPosition(BaseModel):
    side: str = Field(description="workers, employers or government")
    text: str | None


class DraftClause(BaseModel):
    clause_id: uuid.UUID
    number: int
    category: str
    title: str
    positions: list[DraftPosition]


@contract
class DraftOpened(_DisputeEvent):
    """A protocol of disagreements opened a draft dispute: the open clauses as draft demands, for the union to put
    forward (then the employer's answer period starts) or to discard."""

    event_type: ClassVar[str] = "kz.ntc.disputes.draft.opened.v1"

    union_id: uuid.UUID
    employer_id: uuid.UUID
    negotiation_id: uuid.UUID
    protocol_id: uuid.UUID
    demands: list[Demand]
    clauses: list[DraftClause]


# --- individual labour disputes (Labour Code art. 159-160) ---------------------------------
# Audience: the employer and the employee's union when one is named. The employee's name is
# personal data and travels in no event: the parties read it from the service.

class IndividualOutcome(StrEnum):
    upheld = "upheld"
    partly_upheld = "partly_upheld"
    rejected = "rejected"


class _IndividualEvent(EventData):
    individual_dispute_id: uuid.UUID
    employer_id: uuid.UUID
    status: str = Field(description="The application's status after the change")
    on: date = Field(description="The day the change took effect")

    def subject(self) -> str:
        return str(self.individual_dispute_id)


@contract
class IndividualDisputeFiled(_IndividualEvent):
    """An application was registered by the employer's conciliation commission the day it was filed (art. 159)."""

    event_type: ClassVar[str] = "kz.ntc.disputes.individual.filed.v1"

    union_id: uuid.UUID | None = Field(default=None, description="The employee's union, if named")
    subject_matter: str = Field(description="reinstatement, pay, ... (the rule data's subjects)")
    decision_due: date = Field(description="Last day for the commission's decision (15 working days)")
    in_time: bool = Field(description="Whether the application met the art. 160 time limit when filed")


@contract
class IndividualDisputeDecided(_IndividualEvent):
    """The conciliation commission decided; copies are due within 3 days, execution by the day it set."""

    event_type: ClassVar[str] = "kz.ntc.disputes.individual.decided.v1"

    outcome: IndividualOutcome
    late: bool = False
    copies_due: date
    execution_due: date | None = None


@contract
class IndividualDecisionOverdue(_IndividualEvent):
    """The commission's period ran out with no decision recorded; the employee may go to court."""

    event_type: ClassVar[str] = "kz.ntc.disputes.individual.decision_overdue.v1"

    decision_due: date


@contract
class IndividualDecisionExecuted(_IndividualEvent):
    event_type: ClassVar[str] = "kz.ntc.disputes.individual.executed.v1"

    late: bool = False


@contract
class IndividualReferredToCourt(_IndividualEvent):
    """The dispute went to court (after the commission, or without its decision)."""

    event_type: ClassVar[str] = "kz.ntc.disputes.individual.referred_to_court.v1"

    court: str


@contract
class IndividualDisputeWithdrawn(_IndividualEvent):
    event_type: ClassVar[str] = "kz.ntc.disputes.individual.withdrawn.v1"


# --- freedom-of-association complaints (ILO C87, C98) --------------------------------------
# The complainant is shielded from the employer: no event carries the complainant's name,
# contact or position. The complaint's own events go to the complainant's union only; the
# employer hears of a complaint only through ComplaintEmployerNotice, which names no one.

class ComplaintOutcome(StrEnum):
    upheld = "upheld"
    not_upheld = "not_upheld"


class _ComplaintEvent(EventData):
    complaint_id: uuid.UUID
    status: str = Field(description="The complaint's status after the change")
    on: date = Field(description="The day the change took effect")

    def subject(self) -> str:
        return str(self.complaint_id)


@contract
class ComplaintReceived(_ComplaintEvent):
    """A complaint was taken in and routed to the labour inspectorate. Audience: the complainant's union."""

    event_type: ClassVar[str] = "kz.ntc.disputes.complaint.received.v1"

    category: str
    employer_id: uuid.UUID
    union_id: uuid.UUID | None = None
    consideration_due: date = Field(description="Last day of the inspectorate's consideration period")


@contract
class ComplaintInspectionStarted(_ComplaintEvent):
    """The labour inspectorate began its inspection. Audience: the complainant's union."""

    event_type: ClassVar[str] = "kz.ntc.disputes.complaint.inspection_started.v1"


@contract
class ComplaintFindingsRecorded(_ComplaintEvent):
    """The inspectorate's findings. Audience: the complainant's union."""

    event_type: ClassVar[str] = "kz.ntc.disputes.complaint.findings_recorded.v1"

    outcome: ComplaintOutcome
    findings: str
    late: bool = False


@contract
class ComplaintClosed(_ComplaintEvent):
    """The complaint was closed. Audience: the complainant's union."""

    event_type: ClassVar[str] = "kz.ntc.disputes.complaint.closed.v1"

    reason: str | None = None


@contract
class ComplaintConsiderationOverdue(_ComplaintEvent):
    """The inspectorate's consideration period ran out with no findings recorded. Audience: the complainant's union.

    Recorded once, by the deadline sweeper, in the transaction that marks the complaint overdue; ``on`` is the
    first day overdue (the day after ``consideration_due``). It lands on the labour inspectors' desk.
    """

    event_type: ClassVar[str] = "kz.ntc.disputes.complaint.consideration_overdue.v1"

    consideration_due: date = Field(description="Last day of the inspectorate's consideration period")


class EmployerNoticeStage(StrEnum):
    inspection_started = "inspection_started"
    findings = "findings"
    closed = "closed"


@contract
class ComplaintEmployerNotice(_ComplaintEvent):
    """What the employer learns of a complaint about it: that it exists, its stage and its findings.

    Audience: the employer only. It names neither the complainant nor the union.
    """

    event_type: ClassVar[str] = "kz.ntc.disputes.complaint.employer_notified.v1"

    employer_id: uuid.UUID
    stage: EmployerNoticeStage
    outcome: ComplaintOutcome | None = None
    findings: str | None = None
