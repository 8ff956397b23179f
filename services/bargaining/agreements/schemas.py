import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.bargaining import Level
from services.bargaining.negotiations.schemas import PartyPublic

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
RegionCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
# A division of the classifier of economic activities (OKED): two digits, e.g. "05" coal mining.
Division = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{2}$")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccessionRequestIn(_Request):
    union_id: uuid.UUID | None = Field(default=None, description="The union asking to join (staff name it; a union's "
                                       "credential asks for itself)")
    requested_on: date | None = Field(default=None, description="The day of the written request (default: today)")
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None


class AccessionAnswerIn(_Request):
    accepted: bool
    reasons: Reason | None = Field(default=None, description="Required when the employer refuses")
    answered_on: date | None = None


class AccessionPublic(BaseModel):
    id: uuid.UUID
    negotiation_id: uuid.UUID
    union_id: uuid.UUID
    union_name_ru: str
    employer_id: uuid.UUID
    status: str
    requested_on: date
    answer_due: date
    answer_article: str
    overdue_since: date | None
    days_waiting: int | None = Field(description="Days from the request to the answer, or to today while unanswered")
    answered_on: date | None
    reasons: str | None
    note: str | None


class CoverageIn(_Request):
    workers_covered: int = Field(ge=0, le=10_000_000, description="Workers the agreement covers (a count)")
    region_code: RegionCode | None = Field(default=None, description="Default: the employer's region in the register")
    sector: Division | None = Field(default=None, description="OKED division, two digits")


class AgreementPublic(BaseModel):
    """An agreement in the register: its filing, term and expiry, and the workers it covers."""

    id: uuid.UUID
    level: Level
    status: str
    subject_matter: str
    authority: str | None
    registration_number: str | None
    filed_on: date | None
    term_from: date | None
    term_to: date | None = Field(description="The expiry of its term")
    ended_on: date | None
    days_to_expiry: int | None = Field(description="From the day asked about to the end of the term")
    parties: list[PartyPublic]
    workers_covered: int | None
    region_code: str | None
    sector: str | None
    coverage_version: int = Field(description="The coverage's ETag (0 while not set); send it as If-Match")


class AgreementPage(BaseModel):
    items: list[AgreementPublic]
    total: int


class EmployeesIn(_Request):
    national: int = Field(ge=1, description="Employees in the country")
    by_region: dict[RegionCode, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    by_sector: dict[Division, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = Field(
        default=None, description="Where the figures come from (e.g. the Bureau of National Statistics)")


class EmployeesPublic(BaseModel):
    year: int
    national: int
    by_region: dict[str, int]
    by_sector: dict[str, int]
    source: str | None
    updated_at: datetime


class CoverageCell(BaseModel):
    key: str | None = Field(description="Region code or OKED division; null for the national figure")
    covered: int
    employees: int | None
    rate: float | None = Field(description="Per cent, one decimal; null without an employees figure")


class CoverageReport(BaseModel):
    on: date
    employees_year: int
    agreements: int = Field(description="Agreements in force on the day with a workers count")
    without_count: int = Field(description="Agreements in force on the day whose workers count is not yet recorded")
    national: CoverageCell
    by_region: list[CoverageCell]
    by_sector: list[CoverageCell]
    definition: str
    assumption: str
