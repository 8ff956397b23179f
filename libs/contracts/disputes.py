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
