from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.registry.organisations.schemas import RegionCode


class LabourForceWrite(BaseModel):
    """Employees for one year from the labour-force survey: the national figure, regional ones, or both."""

    model_config = ConfigDict(extra="forbid")

    employees: int | None = Field(default=None, ge=1, le=100_000_000, description="Employees in the whole country")
    regions: dict[RegionCode, Annotated[int, Field(ge=1, le=100_000_000)]] = Field(
        default_factory=dict, description="Employees by region code")
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)] = Field(
        description="Where the figures come from, e.g. the statistics bureau's publication")


class LabourForcePublic(BaseModel):
    year: int
    employees: int | None
    regions: dict[str, int]
    source: str
    recorded_at: AwareDatetime | datetime | None
    recorded_by: str


class MembershipYear(BaseModel):
    year: int
    organisations_reporting: int
    members: int = Field(description="Sum of every union's report: the national figure (see notes)")
    women: int
    under_35: int
    women_share: float | None = Field(description="Per cent of members")
    under_35_share: float | None = Field(description="Per cent of members")


class Tally(BaseModel):
    code: str
    organisations: int


class OrganisationCounts(BaseModel):
    total: int
    by_kind: list[Tally]
    by_status: list[Tally]
    by_region: list[Tally] = Field(description="By region code; organisations with no region are left out")
    by_sector: list[Tally] = Field(description="By classifier division; an organisation counts in each of its sectors")


class UnionDensity(BaseModel):
    year: int
    region_code: str | None = Field(description="Null for the whole country")
    members: int
    employees: int
    density: float | None = Field(description="Members ÷ employees × 100")


class DecisionTimes(BaseModel):
    outcome: str = Field(description="registered, refused, or all")
    decisions: int
    median_days: float | None
    p90_days: int | None = Field(description="Nearest-rank 90th percentile")


class GroundFrequency(BaseModel):
    rule: str
    refusals: int = Field(description="Refused applications that cite this rule")
    articles: list[str]


class Statistics(BaseModel):
    generated_at: AwareDatetime
    membership: list[MembershipYear]
    organisations: OrganisationCounts
    density: list[UnionDensity]
    decision_times: list[DecisionTimes]
    refusal_grounds: list[GroundFrequency]
    notes: list[str]
