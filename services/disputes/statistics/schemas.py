from datetime import date

from pydantic import BaseModel, Field


class StrikeFigures(BaseModel):
    strikes: int = Field(description="Disputes in which a strike took place (at least one day)")
    workers_involved: int = Field(description="Workers concerned by those disputes (ILO: workers involved)")
    days_not_worked: int = Field(description="ILO working days not worked: workers involved × working days of strike")
    method: str


class ResolutionTime(BaseModel):
    resolved: int = Field(description="Disputes settled, withdrawn or closed")
    median_days: float | None = Field(description="Calendar days from the demands to the end")
    p90_days: float | None = Field(description="90th percentile (nearest rank) of the same")


class DisputeStatistics(BaseModel):
    as_of: date
    submitted_from: date | None
    submitted_to: date | None
    disputes: int = Field(description="Collective disputes whose demands were put (drafts are not counted)")
    open: int
    by_region: dict[str, int] = Field(description="Region: the first two digits of the KATO code (unknown: none)")
    by_sector: dict[str, int]
    by_cause: dict[str, int]
    by_stage: dict[str, int] = Field(description="The current stage (status) of every dispute")
    by_outcome: dict[str, int] = Field(description="How the disputes that ended, ended")
    strikes: StrikeFigures
    time_to_resolution: ResolutionTime


class RegionTension(BaseModel):
    region_code: str = Field(description="The first two digits of the KATO code (75: Almaty city); unknown: none")
    open_disputes: int
    workers_involved: int
    index: float
    by_stage: dict[str, int]


class SocialTension(BaseModel):
    as_of: date
    method: str
    regions: list[RegionTension]
    total_open: int
