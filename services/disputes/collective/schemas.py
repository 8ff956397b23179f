import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.disputes import AnswerOutcome, Demand, StrikeWarning
from services.disputes.collective.rules import MeetingVote

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DemandIn(_Request):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=5000)]


class DisputeCreate(_Request):
    """Demands put to the employer in writing, by a union or by the employees' elected representatives."""

    union_id: uuid.UUID | None = Field(default=None, description="The union putting the demands (a union acts "
                                       "only for itself)")
    representatives: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)] | None = (
        Field(default=None, description="The employees' elected representatives, when no union acts (staff record "
              "these)"))
    employer_id: uuid.UUID
    demands: list[DemandIn] = Field(min_length=1, max_length=100)
    workers_concerned: int = Field(ge=1, le=10_000_000, description="How many workers the demands concern")
    submitted_on: date | None = Field(default=None, description="The day the demands were handed to the employer "
                                      "(default: today)")


class StageChange(_Request):
    """A change of stage: the day it happens and the outcome of the stage it ends."""

    on: date | None = Field(default=None, description="Default: today")
    outcome: Text | None = Field(default=None, description="How the stage that ends came out")


class AnswerIn(_Request):
    answer: AnswerOutcome
    answered_on: date | None = None
    text: Text = Field(description="The employer's written answer, or its substance")


class MediationIn(StageChange):
    mediator_name: Name
    consent_on: date = Field(description="The day the mediator consented in writing")
    consent_document: Short | None = Field(default=None, description="Reference of the written consent")


class StrikeDecisionIn(StageChange):
    meeting: MeetingVote
    strike_starts_on: date | None = None
    categories: list[str] = Field(default_factory=list, max_length=20, description="The employer's prohibited "
                                  "categories, if any (codes of strike-rules.json, art. 176 p. 1)")
    sectors: list[str] = Field(default_factory=list, max_length=20, description="Life-support sectors the employer "
                               "works in (codes, art. 176 p. 2)")


class RulingIn(StageChange):
    court: Short


class StagePublic(BaseModel):
    number: int
    stage: str
    started_on: date
    ended_on: date | None
    outcome: str | None
    ended_by: str | None
    elapsed_days: int = Field(description="Calendar days in this stage (until today while it lasts)")


class StrikeDecisionPublic(BaseModel):
    decided_on: date
    meeting: MeetingVote
    strike_starts_on: date | None
    categories: list[str]
    sectors: list[str]
    warnings: list[StrikeWarning]


class DisputePublic(BaseModel):
    id: uuid.UUID
    status: str
    union_id: uuid.UUID | None
    representatives: str | None
    workers_name: str
    employer_id: uuid.UUID
    employer_name: str
    workers_concerned: int
    demands: list[Demand]
    submitted_on: date
    answer_due: date
    answer_article: str
    answer: AnswerOutcome | None
    answered_on: date | None
    conciliation_due: date | None
    conciliation_article: str
    mediator_name: str | None
    mediator_consent_on: date | None
    mediator_consent_document: str | None
    strike_decision: StrikeDecisionPublic | None
    court: str | None
    ended_on: date | None
    stages: list[StagePublic]
    allowed_actions: list[str]
    updated_at: datetime
    version: int


class DisputePage(BaseModel):
    items: list[DisputePublic]
    total: int
