import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.disputes import IndividualOutcome
from services.disputes.individual.rules import ExemptionCheck, Step, TimeLimitCheck

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SuspensionIn(_Request):
    """A span during which the art. 160 time limit stood still."""

    ground: Code = Field(description="mediation_agreement or no_commission (the rule data's suspension grounds)")
    since: date
    until: date | None = Field(default=None, description="Last suspended day (none: still suspended at filing)")


class _TimeLimitFacts(_Request):
    subject: Code = Field(description="reinstatement, pay, disciplinary, working_time, transfer, other")
    dismissal_act_on: date | None = Field(default=None, description="Reinstatement: the day the copy of the act "
                                          "ending the contract was handed over")
    violation_known_on: date | None = Field(default=None, description="Other disputes: the day the employee learned "
                                            "(or should have learned) of the violation")
    suspensions: list[SuspensionIn] = Field(default_factory=list, max_length=20)
    exemptions: list[Code] = Field(default_factory=list, max_length=10,
                                   description="Exemptions from the mandatory commission step that may apply")
    employees: int | None = Field(default=None, ge=0, le=10_000_000,
                                  description="The employer's head count (for the small non-profit exemption)")


class PreCheckIn(_TimeLimitFacts):
    """Is an application in time (art. 160), and is the commission step mandatory (art. 159)?"""

    step: Step = Field(default="commission", description="commission: to the conciliation commission; court: to "
                       "court after the commission's decision")
    commission_decision_on: date | None = Field(default=None, description="Court step: the day the copy of the "
                                                "commission's decision was handed over")
    filed_on: date | None = Field(default=None, description="The day of filing (default: today)")


class PreCheckPublic(BaseModel):
    time_limit: TimeLimitCheck
    commission_mandatory: bool
    exemptions: list[ExemptionCheck]
    rules: str


class IndividualCreate(_TimeLimitFacts):
    """An application to the employer's conciliation commission, registered the day it is filed."""

    employer_id: uuid.UUID
    union_id: uuid.UUID | None = Field(default=None, description="The employee's union, if the employee names one")
    employee_name: PersonName = Field(description="Personal data: seen only by the employer, the named union and "
                                      "staff")
    employee_position: Short | None = None
    claim: Text = Field(description="What the employee asks for")
    filed_on: date | None = Field(default=None, description="Default: today")


class DecisionIn(_Request):
    outcome: IndividualOutcome
    decision: Text
    decided_on: date | None = Field(default=None, description="Default: today")
    execution_due: date | None = Field(default=None, description="The day the decision sets for carrying it out "
                                       "(at most one month after it); required unless the claim is rejected")


class CopiesIn(_Request):
    sent_on: date | None = Field(default=None, description="The day copies were handed to the parties (default: "
                                 "today)")


class ExecutionIn(_Request):
    executed_on: date | None = None
    note: Text | None = None


class CourtReferralIn(_Request):
    referred_on: date | None = None
    court: Short
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None


class WithdrawalIn(_Request):
    on: date | None = None


class IndividualPublic(BaseModel):
    id: uuid.UUID
    status: str
    employer_id: uuid.UUID
    employer_name: str
    union_id: uuid.UUID | None
    employee_name: str
    employee_position: str | None
    subject: str
    claim: str
    filed_on: date
    dismissal_act_on: date | None
    violation_known_on: date | None
    time_limit: TimeLimitCheck
    commission_mandatory: bool
    exemptions: list[ExemptionCheck]
    decision_due: date
    decision_article: str
    decision_overdue_since: date | None
    outcome: IndividualOutcome | None
    decision: str | None
    decided_on: date | None
    copies_due: date | None
    copies_article: str
    copies_sent_on: date | None
    copies_overdue_since: date | None
    execution_due: date | None
    executed_on: date | None
    execution_overdue_since: date | None
    court: str | None
    referred_on: date | None
    referral_reason: str | None
    court_limit_ends_on: date | None
    ended_on: date | None
    allowed_actions: list[str]
    updated_at: datetime
    version: int


class IndividualPage(BaseModel):
    items: list[IndividualPublic]
    total: int


class AccessRecord(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, object]


class AccessLog(BaseModel):
    individual_dispute_id: uuid.UUID
    items: list[AccessRecord]
