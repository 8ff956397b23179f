import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.disputes import AnswerOutcome, Demand, DraftClause, StrikeWarning
from services.disputes.collective.rules import DisputeCause, MeetingVote

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
# A KATO code: two digits name a region (75 is Almaty city), up to nine a settlement.
RegionCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2,9}$")]
SectorCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{1,20}$")]


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
    cause: DisputeCause = Field(default=DisputeCause.other, description="What the dispute is mainly about")
    region_code: RegionCode | None = Field(default=None, description="KATO code (default: the employer's region in "
                                           "the register)")
    sector_code: SectorCode | None = Field(default=None, description="The employer's sector (code of the register's "
                                           "sector list)")


class PutForwardIn(_Request):
    """A draft's demands put to the employer in writing: the employer's answer period starts."""

    workers_concerned: int = Field(ge=1, le=10_000_000, description="How many workers the demands concern")
    demands: list[DemandIn] | None = Field(default=None, min_length=1, max_length=100,
                                           description="The demands as put (default: the draft's demands)")
    submitted_on: date | None = Field(default=None, description="Default: today")
    cause: DisputeCause | None = Field(default=None, description="Default: collective_agreement")
    sector_code: SectorCode | None = None


class StageChange(_Request):
    """A change of stage: the day it happens and the outcome of the stage it ends."""

    on: date | None = Field(default=None, description="Default: today")
    outcome: Text | None = Field(default=None, description="How the stage that ends came out")


class AnswerIn(_Request):
    answer: AnswerOutcome
    answered_on: date | None = None
    text: Text = Field(description="The employer's written answer, or its substance")


class MediationIn(StageChange):
    mediator_id: uuid.UUID | None = Field(default=None, description="A roster mediator assigned to this dispute who "
                                          "consented in writing (name and consent then come from the roster)")
    mediator_name: Name | None = Field(default=None, description="A mediator from outside the roster")
    consent_on: date | None = Field(default=None, description="The day the mediator consented in writing")
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
    limit_days: int | None = Field(description="Calendar days the stage may last before it is stalled (none: no "
                                   "limit)")
    stalled: bool = Field(description="Still open and past its limit")


class StrikeDecisionPublic(BaseModel):
    decided_on: date
    meeting: MeetingVote
    strike_starts_on: date | None
    categories: list[str]
    sectors: list[str]
    warnings: list[StrikeWarning]


class BargainingOrigin(BaseModel):
    """The protocol of disagreements a draft was opened from: each open clause and each side's position."""

    negotiation_id: uuid.UUID
    protocol_id: uuid.UUID
    signed_on: date
    clauses: list[DraftClause]


class DisputePublic(BaseModel):
    id: uuid.UUID
    status: str
    union_id: uuid.UUID | None
    representatives: str | None
    workers_name: str
    employer_id: uuid.UUID
    employer_name: str
    workers_concerned: int | None = Field(description="Null in a draft, until the union puts the demands forward")
    demands: list[Demand]
    submitted_on: date = Field(description="The day the demands were put (a draft: the day it was opened)")
    answer_due: date | None = Field(description="Null in a draft: the answer period starts when it is put forward")
    answer_article: str
    answer: AnswerOutcome | None
    answered_on: date | None
    conciliation_due: date | None
    conciliation_article: str
    mediator_id: uuid.UUID | None
    mediator_name: str | None
    mediator_consent_on: date | None
    mediator_consent_document: str | None
    strike_decision: StrikeDecisionPublic | None
    court: str | None
    ended_on: date | None
    cause: DisputeCause
    region_code: str | None
    sector_code: str | None
    from_bargaining: BargainingOrigin | None
    stages: list[StagePublic]
    current_stage_elapsed_days: int | None = Field(description="Calendar days in the current stage (none once ended)")
    stalled: bool = Field(description="The current stage has lasted longer than its limit (stall-rules.json)")
    allowed_actions: list[str]
    updated_at: datetime
    version: int


class DisputePage(BaseModel):
    items: list[DisputePublic]
    total: int
