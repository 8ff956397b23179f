import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.bargaining import CommitmentStatus, Level, Side
from services.bargaining.commissions.schemas import DocumentIn, Summary
from services.bargaining.commitments.rules import Outcome
from services.bargaining.negotiations.schemas import Text

Indicator = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommitmentIn(_Request):
    what: Summary = Field(description="What was promised")
    responsible_side: Side
    responsible_id: uuid.UUID | None = Field(default=None, description="One organisation of that side answering "
                                             "for it alone (default: the whole side)")
    due_on: date
    indicator: Indicator = Field(description="How fulfilment is measured")
    clause_number: int | None = Field(default=None, ge=1, le=10000)


class ReportIn(_Request):
    outcome: Outcome = Field(description="in_progress, done or not_done")
    progress: Text = Field(description="What was done, in words")
    indicator_value: Value | None = None
    evidence: list[DocumentIn] = Field(default_factory=list, max_length=30)
    reported_on: date | None = None


class ReportPublic(BaseModel):
    id: uuid.UUID
    reported_on: date
    outcome: Outcome
    progress: str
    indicator_value: str | None
    evidence: list[DocumentIn]
    reported_by: str


class CommitmentPublic(BaseModel):
    id: uuid.UUID
    negotiation_id: uuid.UUID
    agreement: str = Field(description="The agreement's subject")
    level: Level
    region_code: str | None
    sector: str | None
    number: int
    clause_number: int | None
    what: str
    responsible_side: Side
    responsible_id: uuid.UUID | None
    responsible: list[str] = Field(description="Names of the organisations answering for it")
    due_on: date
    indicator: str
    status: CommitmentStatus
    late_since: date | None
    closed_on: date | None
    last_report_on: date | None
    reports: list[ReportPublic] | None = Field(default=None, description="In the single view only")
    created_at: datetime


class CommitmentPage(BaseModel):
    items: list[CommitmentPublic]
    total: int
    by_status: dict[str, int] = Field(description="Counts over every match (not only this page)")


class ShareRow(BaseModel):
    key: str | None = Field(description="The agreement id, sector or region (null: none recorded)")
    label: str | None = None
    total: int
    done: int
    on_track: int
    late: int
    not_done: int
    share_fulfilled: float | None = Field(description="done ÷ (done + late + not_done): the share of what is owed by "
                                          "now that was fulfilled; null when nothing is owed yet")
    share_done_of_all: float | None = Field(description="done ÷ total, on-track commitments included")


class CommitmentSummary(BaseModel):
    overall: ShareRow
    by_agreement: list[ShareRow]
    by_sector: list[ShareRow]
    by_region: list[ShareRow]
